"""The API shapes of inbound webhooks: sources (the secret only ever in the answer that made
it) and deliveries (read-only)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from opsdesk.accounts.models import Team, User
from opsdesk.core.api.serializers import StrictModelSerializer
from opsdesk.portfolio.models import Service
from opsdesk.tickets.models import Category
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource


class WebhookSourceSerializer(StrictModelSerializer):
    endpoint = serializers.SerializerMethodField(help_text="The address senders POST to.")

    class Meta:
        model = WebhookSource
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "is_active",
            "require_timestamp",
            "account",
            "ticket_type",
            "channel",
            "team",
            "service",
            "category",
            "impact",
            "urgency",
            "field_map",
            "value_map",
            "update_visibility",
            "endpoint",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = ("secret_rotated_at", "previous_secret_expires_at", "created_at", "updated_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            for name, model in (
                ("account", User),
                ("team", Team),
                ("service", Service),
                ("category", Category),
            ):
                self.fields[name].queryset = model.objects.restrict(request.user, "view")

    def get_endpoint(self, source: WebhookSource) -> str:
        return settings.SITE_URL.rstrip("/") + source.endpoint_path()


class WebhookSourceWithSecretSerializer(WebhookSourceSerializer):
    """The answer to a creation: the source and its secret, shown this once."""

    secret = serializers.CharField(read_only=True, help_text="Store it now: it is never shown again.")

    class Meta(WebhookSourceSerializer.Meta):
        fields = (*WebhookSourceSerializer.Meta.fields, "secret")


class SecretRotationSerializer(serializers.Serializer):
    keep_previous = serializers.BooleanField(
        default=False, help_text="Keep the old secret working for 24 hours while the sender switches."
    )

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        unknown = sorted(set(data) - {"keep_previous"})
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        if "keep_previous" in data and not isinstance(data["keep_previous"], bool):
            raise serializers.ValidationError({"keep_previous": ["Send true or false."]})
        return super().to_internal_value(data)


class RotatedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new secret. Store it now: it is never shown again.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the old secret still works (null: it no longer does)."
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    source_slug = serializers.CharField(source="source.slug", read_only=True)
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "source",
            "source_slug",
            "delivery_id",
            "received_at",
            "signature_valid",
            "status",
            "http_status",
            "error",
            "warnings",
            "payload",
            "body_bytes",
            "external_id",
            "ticket",
            "action",
            "duplicate_of",
            "replay_of",
        )
        read_only_fields = fields
