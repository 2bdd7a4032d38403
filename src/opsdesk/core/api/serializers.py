"""Base serializer for every API model: strict about what it accepts."""

from __future__ import annotations

from rest_framework import serializers


class StrictModelSerializer(serializers.ModelSerializer):
    """Refuses input it would otherwise silently drop: unknown fields, read-only fields and
    anything but a JSON object. ``version`` is accepted as the version the client edited."""

    version = serializers.IntegerField(read_only=True)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        writable = {name for name, field in self.fields.items() if not field.read_only}
        errors = {}
        for name in data:
            if name == "version":
                continue
            if name not in self.fields:
                errors[name] = ["Unknown field."]
            elif name not in writable:
                errors[name] = ["This field is read-only."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value({key: value for key, value in data.items() if key != "version"})
