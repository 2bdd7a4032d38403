"""Filters of the chat list (API)."""

from __future__ import annotations

import django_filters

from opsdesk.chat.models import ChatSession


class ChatSessionFilterSet(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ticket = django_filters.CharFilter(field_name="ticket__number", lookup_expr="iexact")

    class Meta:
        model = ChatSession
        fields = ("status", "team", "requester", "agent")
