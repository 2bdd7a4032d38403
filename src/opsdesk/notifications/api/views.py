from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from opsdesk.core.api.views import ApiViewMixin
from opsdesk.core.services import ensure_allowed
from opsdesk.notifications import selectors, services
from opsdesk.notifications.api.serializers import NotificationPreferencesSerializer, OutboundMessageSerializer
from opsdesk.notifications.models import OutboundMessage


class OutboxReaders(permissions.BasePermission):
    """The outbox holds what the desk wrote to people: administrators, managers and auditors read it."""

    message = "Only administrators, managers and auditors may read the outbox."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.can_read_all)


class OutboundMessageViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """E-mails the desk sent or is trying to send, with their delivery state. Read-only;
    ``retry`` queues a waiting or failed message for an attempt now (administrators, managers)."""

    permission_classes = [OutboxReaders]
    queryset = OutboundMessage.objects.all()
    serializer_class = OutboundMessageSerializer
    filterset_fields = ("status", "kind", "address")
    search_fields = ("subject", "address")
    ordering_fields = ("id", "created_at")

    def get_queryset(self):
        return OutboundMessage.objects.restrict(self.request.user, "view").select_related("ticket")

    @extend_schema(request=None, responses=OutboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        message = self.get_object()
        ensure_allowed(actor=request.user, action="change", instance=message)
        with transaction.atomic():
            message = services.message_retry(actor=request.user, message=message)
        return Response(self.get_serializer(message).data)


class NotificationPreferencesView(ApiViewMixin, APIView):
    """The signed-in person's notification choices (their own only)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=NotificationPreferencesSerializer)
    def get(self, request):
        return Response(self._visible(request.user, selectors.preferences_for(request.user)))

    @extend_schema(request=NotificationPreferencesSerializer, responses=NotificationPreferencesSerializer)
    def put(self, request):
        payload = NotificationPreferencesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with transaction.atomic():
            current = services.preferences_save(
                actor=request.user, user=request.user, choices=payload.validated_data
            )
        return Response(self._visible(request.user, current))

    @staticmethod
    def _visible(user, preferences: dict[str, bool]) -> dict[str, bool]:
        return {event: preferences[event] for event in selectors.events_for(user)}
