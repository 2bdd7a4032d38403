"""Inbound webhooks over REST: sources (administrators keep them, managers and auditors read
them) and their deliveries (read-only). The secret appears in the answer to a creation or a
rotation only. Views validate and call ``opsdesk.webhooks.services``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import ANY_VERSION, ApiViewMixin, RestrictedModelViewSet, if_match_version
from opsdesk.webhooks import services
from opsdesk.webhooks.api import serializers
from opsdesk.webhooks.filtersets import DeliveryFilterSet, SourceFilterSet
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource
from opsdesk.webhooks.selectors import delivery_list_for


class ReadsEverything(permissions.BasePermission):
    """Webhooks are the platform's plumbing: administrators, managers and auditors only."""

    message = "Webhook sources and deliveries are for administrators (managers and auditors read them)."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "can_read_all", False))


class WebhookSourceViewSet(RestrictedModelViewSet):
    """Systems allowed to raise and update tickets by signed webhook, with their payload mapping.
    The secret is returned once, in the answer to the creation (and to a rotation)."""

    queryset = WebhookSource.objects.all()
    serializer_class = serializers.WebhookSourceSerializer
    permission_classes = [RestrictedPermission, ReadsEverything]
    filterset_class = SourceFilterSet
    search_fields = ("name", "slug")
    ordering_fields = ("id", "name")
    select_related = ("account", "team", "service", "category")

    def create_record(self, data: dict[str, Any]) -> WebhookSource:
        source, self.new_secret = services.source_create(actor=self.request.user, data=dict(data))
        return source

    def update_record(
        self, instance: WebhookSource, data: dict[str, Any], version: int | None
    ) -> WebhookSource:
        return services.source_update(
            actor=self.request.user, source=instance, data=dict(data), expected_version=version
        )

    def delete_record(self, instance: WebhookSource, version: int | None) -> None:
        services.source_delete(actor=self.request.user, source=instance, expected_version=version)

    @extend_schema(responses={201: serializers.WebhookSourceWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data["secret"] = self.new_secret
        return response

    @extend_schema(
        request=serializers.SecretRotationSerializer,
        responses=serializers.RotatedSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Give the source a new secret (administrators). Send If-Match to guard against a stale view."""
        source = self.get_object()
        payload = serializers.SecretRotationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = if_match_version(request)
        secret = services.source_rotate_secret(
            actor=request.user,
            source=source,
            keep_previous=payload.validated_data["keep_previous"],
            expected_version=None if version == ANY_VERSION else version,
        )
        source.refresh_from_db()
        body = {"secret": secret, "previous_secret_expires_at": source.previous_secret_expires_at}
        return Response(
            serializers.RotatedSecretSerializer(body).data,
            status=status.HTTP_200_OK,
            headers={"ETag": f'"{source.version}"', "Cache-Control": "no-store"},
        )


class WebhookDeliveryViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Every request to a webhook address: processed, duplicate, rejected or failed, and what it did."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = serializers.WebhookDeliverySerializer
    permission_classes = [permissions.IsAuthenticated, ReadsEverything]
    filterset_class = DeliveryFilterSet
    search_fields = ("delivery_id", "external_id")
    ordering_fields = ("id", "received_at")

    def get_queryset(self):
        return delivery_list_for(user=self.request.user).order_by("-received_at", "-id")
