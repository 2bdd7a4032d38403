"""Filters of the outbox list."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from opsdesk.notifications.choices import MessageStatus, NotificationEvent
from opsdesk.notifications.models import OutboundMessage


class OutboundMessageFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices)
    kind = django_filters.ChoiceFilter(label="Notification", choices=NotificationEvent.choices)
    ticket = django_filters.CharFilter(label="Ticket", method="filter_ticket")
    address = django_filters.CharFilter(label="Recipient", lookup_expr="icontains")

    class Meta:
        model = OutboundMessage
        fields = ("status", "kind", "ticket", "address")

    def filter_ticket(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(Q(ticket__number=value)) if value else queryset
