"""The chat API's shapes: sessions, and their messages on a single session."""

from __future__ import annotations

from rest_framework import serializers

from opsdesk.chat.models import ChatMessage, ChatSession


class ChatMessageSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.__str__", read_only=True)

    class Meta:
        model = ChatMessage
        fields = ("id", "author", "author_name", "body", "created_at")
        read_only_fields = fields


class ChatSessionSerializer(serializers.ModelSerializer):
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ChatSession
        fields = (
            "id",
            "status",
            "requester",
            "team",
            "agent",
            "origin",
            "ticket",
            "message_count",
            "created_at",
            "accepted_at",
            "ended_at",
            "last_message_at",
        )
        read_only_fields = fields


class ChatSessionDetailSerializer(ChatSessionSerializer):
    messages = ChatMessageSerializer(many=True, read_only=True)

    class Meta(ChatSessionSerializer.Meta):
        fields = (*ChatSessionSerializer.Meta.fields, "messages")
        read_only_fields = fields
