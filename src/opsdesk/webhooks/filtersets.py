"""Filters of the webhook lists (screens and API)."""

from __future__ import annotations

import django_filters

from opsdesk.webhooks.choices import DeliveryAction, DeliveryStatus
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource


class SourceFilterSet(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = WebhookSource
        fields = ("is_active",)


class DeliveryFilterSet(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(queryset=WebhookSource.objects.all())
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    action = django_filters.ChoiceFilter(choices=DeliveryAction.choices)
    delivery_id = django_filters.CharFilter(max_length=100, label="Delivery id")
    external_id = django_filters.CharFilter(max_length=200, label="External id")
    ticket = django_filters.CharFilter(field_name="ticket__number", max_length=16, label="Ticket number")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = WebhookDelivery
        fields = ("source", "status", "action", "delivery_id", "external_id", "ticket")
