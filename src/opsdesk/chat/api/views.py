"""Chats for integrations (read-only): requesters read their own, agents their teams'."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from rest_framework import viewsets

from opsdesk.chat import selectors
from opsdesk.chat.api import serializers
from opsdesk.chat.filtersets import ChatSessionFilterSet
from opsdesk.chat.models import ChatMessage, ChatSession
from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import ApiViewMixin


class ChatSessionViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Live chat sessions, newest last by id. The list gives each chat's state and message
    count; a single chat includes its messages (plain text, oldest first). Requesters see
    their own chats; agents the chats of their teams and those they answered."""

    queryset = ChatSession.objects.all()
    serializer_class = serializers.ChatSessionSerializer
    permission_classes = [RestrictedPermission]
    filterset_class = ChatSessionFilterSet
    search_fields = ("requester__username", "requester__last_name", "ticket__number")
    ordering_fields = ("id", "created_at", "ended_at")

    def get_queryset(self):
        queryset = selectors.session_list_for(user=self.request.user).annotate(
            message_count=Count("messages")
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("messages", queryset=ChatMessage.objects.select_related("author").order_by("id"))
            )
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.ChatSessionDetailSerializer
        return serializers.ChatSessionSerializer
