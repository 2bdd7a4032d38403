from __future__ import annotations

from rest_framework import serializers

from opsdesk.notifications.choices import NotificationEvent
from opsdesk.notifications.models import OutboundMessage


class OutboundMessageSerializer(serializers.ModelSerializer):
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = OutboundMessage
        fields = (
            "id",
            "ticket",
            "event",
            "kind",
            "recipient",
            "address",
            "language",
            "subject",
            "body_text",
            "body_html",
            "message_id",
            "in_reply_to",
            "references",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_error",
            "sent_at",
            "created_at",
        )
        read_only_fields = fields


class NotificationPreferencesSerializer(serializers.Serializer):
    """Each notification → whether the signed-in person gets its e-mail. A PUT may name only
    some; requesters have no ``assigned`` or ``sla_warning``."""

    def get_fields(self):
        return {
            event: serializers.BooleanField(required=False, help_text=label)
            for event, label in NotificationEvent.choices
        }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        errors = {}
        for name, value in data.items():
            if name not in NotificationEvent.values:
                errors[name] = ["Unknown notification."]
            elif not isinstance(value, bool):
                errors[name] = ["Send true or false."]
        if errors:
            raise serializers.ValidationError(errors)
        return dict(data)
