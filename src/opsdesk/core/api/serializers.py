"""Base serializer for every API model: strict about what it accepts."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

WALL_CLOCK_TIME = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": WALL_CLOCK_TIME,
        "example": "08:30:00",
        "description": "A wall-clock time without offset, HH:MM[:SS].",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A local time of day ("08:30:00"). OpenAPI's ``format: time`` means an RFC 3339 time with
    an offset, which these are not, so the schema describes them by pattern instead."""


def _type_error(field: serializers.Field, value: Any) -> str | None:
    """Why ``value`` has the wrong JSON type for ``field``, or None if the type fits.

    DRF coerces freely (``"5"`` for an integer, ``0`` for a string, ``"yes"`` for a boolean);
    a client that sends the wrong type has a bug we should tell it about, not guess around.
    """
    if value is None:
        return None  # the field itself decides whether null is allowed
    if isinstance(field, serializers.ManyRelatedField):
        if not isinstance(value, list):
            return "Send a list."
        return next(filter(None, (_type_error(field.child_relation, item) for item in value)), None)
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Send true or false."
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Send a whole number."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "Send a number."
    if isinstance(field, serializers.ChoiceField):
        keys = list(field.choices)
        if keys and all(isinstance(key, int) for key in keys):
            return None if isinstance(value, int) and not isinstance(value, bool) else "Send a whole number."
        return None if isinstance(value, str) else "Send a string."
    if isinstance(
        field,
        serializers.CharField
        | serializers.DateTimeField
        | serializers.DateField
        | serializers.TimeField
        | serializers.DurationField,
    ):
        return None if isinstance(value, str) else "Send a string."
    return None


class StrictModelSerializer(serializers.ModelSerializer):
    """Refuses input it would otherwise silently drop or coerce: unknown fields, read-only fields,
    values of the wrong JSON type and anything but a JSON object. ``version`` is accepted as the
    version the client edited."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.TimeField: WallClockTimeField,
    }

    version = serializers.IntegerField(read_only=True)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        writable = {name for name, field in self.fields.items() if not field.read_only}
        errors = {}
        for name, value in data.items():
            if name == "version":
                continue
            if name not in self.fields:
                errors[name] = ["Unknown field."]
            elif name not in writable:
                errors[name] = ["This field is read-only."]
            elif problem := _type_error(self.fields[name], value):
                errors[name] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value({key: value for key, value in data.items() if key != "version"})


class StaffOnlyFieldsMixin:
    """Leaves ``staff_only_fields`` out of what requesters (non-staff) receive: internal teams,
    costs. Their lists and details are already restricted to the records they may see."""

    staff_only_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and not getattr(user, "is_agent", False):
            for name in self.staff_only_fields:
                data.pop(name, None)
        return data
