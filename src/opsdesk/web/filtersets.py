"""Filters of the platform's own logs in the web UI: audit trail, security log, jobs."""

from __future__ import annotations

import django_filters
from django.apps import apps
from django.contrib.auth import get_user_model

from opsdesk.core.choices import AuditOperation, Channel, JobStatus, SecurityEventKind
from opsdesk.core.models import AuditedModel, AuditEntry, Job, SecurityEvent


def audited_model_choices() -> list[tuple[str, str]]:
    """Every model that writes to the audit trail, by its human name (no query needed)."""
    choices = [
        (f"{model._meta.app_label}.{model._meta.model_name}", str(model._meta.verbose_name).capitalize())
        for model in apps.get_models()
        if issubclass(model, AuditedModel)
    ]
    return sorted(choices, key=lambda choice: choice[1])


class AuditEntryFilterSet(django_filters.FilterSet):
    object_type = django_filters.ChoiceFilter(
        label="Record type", choices=audited_model_choices, method="filter_object_type"
    )
    actor = django_filters.ModelChoiceFilter(
        label="Changed by", queryset=lambda request: get_user_model().objects.all()
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    operation = django_filters.ChoiceFilter(label="Change", choices=AuditOperation.choices)
    since = django_filters.DateFilter(label="From", field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label="To", field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ("object_type", "actor", "channel", "operation", "since", "until")

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


class SecurityEventFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SecurityEventKind.choices)
    username = django_filters.CharFilter(lookup_expr="iexact")
    since = django_filters.DateFilter(label="From", field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label="To", field_name="at", lookup_expr="date__lte")

    class Meta:
        model = SecurityEvent
        fields = ("kind", "username", "since", "until")


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    name = django_filters.CharFilter(lookup_expr="icontains", label="Task")

    class Meta:
        model = Job
        fields = ("status", "name")
