"""Filters of the service-level lists (API and screens)."""

from __future__ import annotations

import django_filters

from opsdesk.sla.choices import Metric, PolicyKind, TimerState
from opsdesk.sla.models import SlaPolicy, SlaTarget, SlaTimer


class PolicyFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PolicyKind.choices)
    is_active = django_filters.BooleanFilter()
    service = django_filters.NumberFilter(field_name="services", distinct=True, label="Service id")
    team = django_filters.NumberFilter(field_name="team", label="Team id (OLA)")

    class Meta:
        model = SlaPolicy
        fields = ("kind", "is_active", "service", "team")


class TargetFilterSet(django_filters.FilterSet):
    policy = django_filters.NumberFilter(field_name="policy", label="Policy id")
    metric = django_filters.ChoiceFilter(choices=Metric.choices)

    class Meta:
        model = SlaTarget
        fields = ("policy", "metric")


class TimerFilterSet(django_filters.FilterSet):
    ticket = django_filters.CharFilter(field_name="ticket__number", max_length=16, label="Ticket number")
    policy = django_filters.NumberFilter(field_name="policy", label="Policy id")
    kind = django_filters.ChoiceFilter(choices=PolicyKind.choices)
    metric = django_filters.ChoiceFilter(choices=Metric.choices)
    state = django_filters.MultipleChoiceFilter(choices=TimerState.choices)
    breached = django_filters.BooleanFilter()
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label="Due before")
    due_after = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label="Due at or after"
    )

    class Meta:
        model = SlaTimer
        fields = ("ticket", "policy", "kind", "metric", "state", "breached", "due_before", "due_after")
