"""E-mail intake over REST. Administrators keep mailboxes and retry quarantined messages;
managers read both; nobody else sees them. Views validate and call ``opsdesk.mail.services``."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import ApiViewMixin, RestrictedModelViewSet
from opsdesk.mail import services
from opsdesk.mail.api import serializers
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.mail.permissions import may_download_raw


class ManagersAndAdmins(permissions.BasePermission):
    message = "The e-mail intake is for managers and administrators."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_manager", False))


class MailboxViewSet(RestrictedModelViewSet):
    """Mailboxes the desk reads (IMAP, or the built-in receiver) and where their tickets go.
    Passwords and tokens are write-only; an empty one on an update keeps the stored secret."""

    queryset = Mailbox.objects.all()
    serializer_class = serializers.MailboxSerializer
    permission_classes = [RestrictedPermission, ManagersAndAdmins]
    search_fields = ("name", "address")
    ordering_fields = ("id", "name", "address")
    filterset_fields = ("kind", "is_active", "team")

    def create_record(self, data: dict[str, Any]) -> Mailbox:
        return services.mailbox_save(actor=self.request.user, data=dict(data))

    def update_record(self, instance: Mailbox, data: dict[str, Any], version: int | None) -> Mailbox:
        return services.mailbox_save(
            actor=self.request.user, data=dict(data), mailbox=instance, expected_version=version
        )


class InboundMessageViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Every message the intake received and what became of it (processed, duplicate, ignored
    with the reason, quarantined with the error). ``retry`` processes a quarantined one again;
    ``raw`` downloads the message as delivered (administrators only)."""

    queryset = InboundMessage.objects.all()
    serializer_class = serializers.InboundMessageSerializer
    permission_classes = [RestrictedPermission, ManagersAndAdmins]
    search_fields = ("subject", "from_address", "message_id")
    ordering_fields = ("id", "received_at")
    filterset_fields = ("mailbox", "status", "from_address")

    def get_queryset(self):
        return InboundMessage.objects.restrict(self.request.user, "view").select_related("ticket")

    @extend_schema(request=None, responses=serializers.InboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        message = self.get_object()
        message = services.inbound_retry(actor=request.user, message=message)
        return Response(self.get_serializer(message).data)

    @extend_schema(responses={(200, "message/rfc822"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def raw(self, request, pk=None):
        message = self.get_object()
        if not may_download_raw(request.user):
            raise exceptions.PermissionDenied("Raw messages download for administrators only.")
        if not message.raw:
            raise exceptions.NotFound("This message's raw copy is the original's; download that one.")
        return FileResponse(
            message.raw.open("rb"),
            as_attachment=True,
            filename=f"message-{message.pk}.eml",
            content_type="message/rfc822",
        )
