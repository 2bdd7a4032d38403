"""The API shapes of service levels: policies with their targets (kept by managers), targets,
and the timers the clock keeps (read-only). Writes go through ``opsdesk.sla.services``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsdesk.accounts.models import Organization, Team
from opsdesk.core.api.serializers import StaffOnlyFieldsMixin, StrictModelSerializer
from opsdesk.portfolio.models import BusinessCalendar, Provider, Service
from opsdesk.sla.choices import MAX_TARGET_MINUTES, Metric, PolicyKind, TimerState
from opsdesk.sla.models import SlaPolicy, SlaTarget, SlaTimer
from opsdesk.tickets.choices import PendingReason, Priority, TicketType
from opsdesk.tickets.models import Category

KIND_ENUM, METRIC_ENUM, STATE_ENUM = "SlaKindEnum", "SlaMetricEnum", "SlaTimerStateEnum"
MINUTES_RANGE = f"A whole number of business minutes from 1 to {MAX_TARGET_MINUTES}."


def _restrict(field: serializers.Field, model, request) -> None:
    """Only ids of rows the client may see are accepted."""
    relation = getattr(field, "child_relation", field)
    if request is not None and request.user.is_authenticated:
        relation.queryset = model.objects.restrict(request.user, "view")


class NamedChoiceField(serializers.ChoiceField):
    """A choice whose set is one named schema component (``component``), shared by every field
    that uses it, whatever the field is called elsewhere in the API."""

    def __init__(self, *, component: str, **kwargs):
        self.component = component
        super().__init__(**kwargs)


class ChoiceListField(serializers.ListField):
    """A JSON list of choice values, each of the exact JSON type of the choices (no "1" for 1,
    no true for 1). Duplicates are dropped by the model."""

    def __init__(self, *, choices, message: str, component: str, **kwargs):
        self.choice_values = [value for value, _label in choices]
        self.message = message
        self.component = component
        kwargs.setdefault("required", False)
        super().__init__(child=serializers.ChoiceField(choices=choices), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Send a list.")
        if any(isinstance(item, bool) or item not in self.choice_values for item in data):
            raise serializers.ValidationError(self.message)
        kinds = {type(value) for value in self.choice_values}
        if any(type(item) not in kinds for item in data):
            raise serializers.ValidationError(self.message)
        return list(data)


def _enum_component(auto_schema, name: str, values: list) -> dict:
    kind = "integer" if all(isinstance(value, int) for value in values) else "string"
    component = ResolvedComponent(
        name=name, type=ResolvedComponent.SCHEMA, object=name, schema={"type": kind, "enum": values}
    )
    auto_schema.registry.register_on_missing(component)
    return component.ref


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "opsdesk.sla.api.serializers.NamedChoiceField"

    def map_serializer_field(self, auto_schema, direction):
        return _enum_component(auto_schema, self.target.component, list(self.target.choices))


class ChoiceListFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "opsdesk.sla.api.serializers.ChoiceListField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        return {"type": "array", "items": _enum_component(auto_schema, field.component, field.choice_values)}


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 100},
        "minItems": 1,
        "description": "Percentages of a target at which warnings fire; 100 (the breach) is always added.",
    }
)
class ThresholdsField(serializers.Field):
    message = "A list of whole percentages from 1 to 100, e.g. [50, 75, 90, 100]."

    def to_internal_value(self, data):
        if (
            not isinstance(data, list)
            or not data
            or any(
                isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 100 for item in data
            )
        ):
            raise serializers.ValidationError(self.message)
        return list(data)

    def to_representation(self, value):
        return list(value)


class SlaNestedTargetSerializer(serializers.ModelSerializer):
    metric = NamedChoiceField(choices=Metric.choices, component=METRIC_ENUM, read_only=True)

    class Meta:
        model = SlaTarget
        fields = ("id", "metric", "priority", "minutes")
        read_only_fields = fields


class SlaPolicySerializer(StrictModelSerializer):
    """An SLA, OLA or UC policy. Criteria left empty match every ticket; ``services``,
    ``organizations`` and ``categories`` are lists of ids; ``targets`` are kept at
    ``/api/v1/sla-targets/``."""

    ticket_types = ChoiceListField(
        choices=TicketType.choices,
        message="A list of: " + ", ".join(TicketType.values) + ".",
        component="SlaTicketTypeEnum",
        help_text="incident, request; empty = both.",
    )
    priorities = ChoiceListField(
        choices=Priority.choices,
        message="A list of priorities from 1 to 5.",
        component="SlaPriorityEnum",
        help_text="1 to 5; empty = every priority.",
    )
    pause_reasons = ChoiceListField(
        choices=PendingReason.choices,
        message="A list of: " + ", ".join(PendingReason.values) + ".",
        component="SlaPauseReasonEnum",
        help_text="The clock pauses while the ticket is pending for one of these reasons.",
    )
    kind = NamedChoiceField(choices=PolicyKind.choices, component=KIND_ENUM, required=False)
    thresholds = ThresholdsField(required=False)
    targets = SlaNestedTargetSerializer(many=True, read_only=True)

    class Meta:
        model = SlaPolicy
        fields = (
            "id",
            "name",
            "description",
            "kind",
            "is_active",
            "position",
            "calendar",
            "ticket_types",
            "priorities",
            "services",
            "organizations",
            "categories",
            "team",
            "provider",
            "pause_reasons",
            "on_reopen",
            "thresholds",
            "targets",
            "version",
            "created_at",
            "updated_at",
        )
        extra_kwargs = {
            "position": {"max_value": 2_147_483_647},
            "services": {"required": False},
            "organizations": {"required": False},
            "categories": {"required": False},
        }

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for name, model in (
            ("calendar", BusinessCalendar),
            ("services", Service),
            ("organizations", Organization),
            ("categories", Category),
            ("team", Team),
            ("provider", Provider),
        ):
            if not fields[name].read_only:
                _restrict(fields[name], model, request)
        return fields


class SlaTargetSerializer(StrictModelSerializer):
    """How many business minutes a policy allows for one metric, at one priority or (``priority``
    null) at every priority."""

    metric = NamedChoiceField(choices=Metric.choices, component=METRIC_ENUM)
    minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TARGET_MINUTES,
        error_messages={"min_value": MINUTES_RANGE, "max_value": MINUTES_RANGE},
        help_text="Business minutes of the policy's calendar.",
    )

    class Meta:
        model = SlaTarget
        fields = ("id", "policy", "metric", "priority", "minutes", "version", "created_at", "updated_at")
        # Uniqueness is checked below, naming the field; DRF's own check skips null priorities.
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        _restrict(fields["policy"], SlaPolicy, self.context.get("request"))
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        policy = attrs.get("policy", instance.policy if instance else None)
        metric = attrs.get("metric", instance.metric if instance else None)
        priority = attrs.get("priority", instance.priority if instance else None)
        if policy is None or metric is None:
            return attrs
        if policy.kind == PolicyKind.UC and metric != Metric.RESOLUTION:
            raise serializers.ValidationError(
                {"metric": "A UC times how long the provider takes: resolution only."}
            )
        if policy.kind == PolicyKind.OLA and metric == Metric.NEXT_RESPONSE:
            raise serializers.ValidationError({"metric": "An OLA has first-response and resolution targets."})
        clash = SlaTarget.objects.filter(policy=policy, metric=metric, priority=priority)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            which = f"P{priority}" if priority else "every priority"
            raise serializers.ValidationError(
                {
                    "priority": f"{policy.name} already has a {Metric(metric).label.lower()} target "
                    f"for {which}: change that one instead."
                }
            )
        return attrs


# --- timers (read-only) -----------------------------------------------------------------------------


class SlaPolicyRefSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(choices=PolicyKind.choices, component=KIND_ENUM, read_only=True)

    class Meta:
        model = SlaPolicy
        fields = ("id", "name", "kind")
        read_only_fields = fields


class SlaTimerSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    """One measured period of one target on one ticket, as the clock last stored it."""

    staff_only_fields = ("team",)

    ticket = serializers.SlugRelatedField(
        slug_field="number", read_only=True, help_text="The ticket's number."
    )
    policy = SlaPolicyRefSerializer(read_only=True)
    kind = NamedChoiceField(choices=PolicyKind.choices, component=KIND_ENUM, read_only=True)
    metric = NamedChoiceField(choices=Metric.choices, component=METRIC_ENUM, read_only=True)
    state = NamedChoiceField(choices=TimerState.choices, component=STATE_ENUM, read_only=True)
    elapsed_minutes = serializers.SerializerMethodField(
        help_text="Business minutes used, as last stored (counted up to the last stop or pause)."
    )
    paused_minutes = serializers.SerializerMethodField(help_text="Wall-clock minutes paused.")

    class Meta:
        model = SlaTimer
        fields = (
            "id",
            "ticket",
            "policy",
            "kind",
            "metric",
            "cycle",
            "team",
            "state",
            "target_minutes",
            "elapsed_minutes",
            "paused_minutes",
            "started_at",
            "stopped_at",
            "due_at",
            "breached",
            "breached_at",
            "reason",
        )
        read_only_fields = fields

    def get_elapsed_minutes(self, timer: SlaTimer) -> int:
        return timer.elapsed_seconds // 60

    def get_paused_minutes(self, timer: SlaTimer) -> int:
        return timer.paused_seconds // 60


# --- a ticket's clock (GET /tickets/{number}/sla/) ---------------------------------------------------


class SlaClockSegmentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    mode = NamedChoiceField(
        choices=[("running", "running"), ("paused", "paused"), ("stopped", "stopped")],
        component="SlaSegmentModeEnum",
    )
    reason = serializers.CharField(allow_blank=True)
    business_minutes = serializers.IntegerField(help_text="Business minutes this segment counted (so far).")


class SlaClockAlertSerializer(serializers.Serializer):
    percent = serializers.IntegerField()
    reached_at = serializers.DateTimeField()


class SlaClockTimerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    policy = SlaPolicyRefSerializer()
    metric = NamedChoiceField(choices=Metric.choices, component=METRIC_ENUM)
    cycle = serializers.IntegerField()
    state = NamedChoiceField(choices=TimerState.choices, component=STATE_ENUM)
    target_minutes = serializers.IntegerField()
    elapsed_minutes = serializers.IntegerField(help_text="Business minutes used by now.")
    paused_minutes = serializers.IntegerField()
    percent_used = serializers.IntegerField(help_text="Of the target, by now; above 100 when breached.")
    due_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.BooleanField()
    breached_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField()
    stopped_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    segments = SlaClockSegmentSerializer(many=True)
    alerts = SlaClockAlertSerializer(
        many=True, help_text="Thresholds reached (staff only; empty for requesters)."
    )


class SlaNoSlaReasonSerializer(serializers.Serializer):
    policy = serializers.CharField()
    criterion = serializers.CharField(help_text="The criterion the ticket does not meet.")


class SlaTicketClockSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="The ticket's number.")
    state = serializers.CharField(
        allow_blank=True, help_text="on_track, warning, breached, paused, met; empty = no SLA."
    )
    due_at = serializers.DateTimeField(allow_null=True)
    no_sla_reason = SlaNoSlaReasonSerializer(
        many=True,
        help_text="Without any timer: each SLA policy and why it does not cover the ticket (staff).",
    )
    timers = SlaClockTimerSerializer(many=True)
