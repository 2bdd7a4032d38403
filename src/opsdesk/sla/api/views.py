"""Service levels over REST: policies and targets (staff read them, managers keep them), the
timers the clock keeps (read-only) and one ticket's clock. Views validate and call
``opsdesk.sla.services``; they never write models."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, permissions, viewsets
from rest_framework.response import Response

from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import ApiViewMixin, RestrictedModelViewSet
from opsdesk.sla import services
from opsdesk.sla.api import serializers
from opsdesk.sla.clock_view import ticket_clock
from opsdesk.sla.filtersets import PolicyFilterSet, TargetFilterSet, TimerFilterSet
from opsdesk.sla.models import SlaPolicy, SlaTarget, SlaTimer
from opsdesk.tickets.models import Ticket


class StaffOnly(permissions.BasePermission):
    """Policies and targets are the desk's own settings: requesters are refused outright."""

    message = "Service-level policies are for the service desk's staff."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_agent", False))


class PolicyViewSet(RestrictedModelViewSet):
    """SLA, OLA and UC policies: what they cover, on which calendar they count, when they pause.
    Staff read them; managers and administrators keep them. A policy that has timed tickets
    cannot be deleted (deactivate it) nor change its kind."""

    queryset = SlaPolicy.objects.all()
    serializer_class = serializers.SlaPolicySerializer
    permission_classes = [RestrictedPermission, StaffOnly]
    filterset_class = PolicyFilterSet
    search_fields = ("name",)
    ordering_fields = ("id", "name", "position")
    prefetch_related = ("services", "organizations", "categories", "targets")

    def create_record(self, data: dict[str, Any]) -> SlaPolicy:
        return services.policy_save(actor=self.request.user, data=dict(data))

    def update_record(self, instance: SlaPolicy, data: dict[str, Any], version: int | None) -> SlaPolicy:
        return services.policy_save(
            actor=self.request.user, data=dict(data), policy=instance, expected_version=version
        )

    def delete_record(self, instance: SlaPolicy, version: int | None) -> None:
        services.policy_delete(actor=self.request.user, policy=instance, expected_version=version)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer):
        # Re-read: the instance's prefetched relations predate the change.
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class TargetViewSet(RestrictedModelViewSet):
    """Targets of the policies: business minutes per metric, for one priority or (null) for all."""

    queryset = SlaTarget.objects.all()
    serializer_class = serializers.SlaTargetSerializer
    permission_classes = [RestrictedPermission, StaffOnly]
    filterset_class = TargetFilterSet
    ordering_fields = ("id", "minutes")
    select_related = ("policy",)

    def create_record(self, data: dict[str, Any]) -> SlaTarget:
        return services.target_save(actor=self.request.user, data=dict(data))

    def update_record(self, instance: SlaTarget, data: dict[str, Any], version: int | None) -> SlaTarget:
        return services.target_save(
            actor=self.request.user, data=dict(data), target=instance, expected_version=version
        )

    def delete_record(self, instance: SlaTarget, version: int | None) -> None:
        services.target_delete(actor=self.request.user, target=instance, expected_version=version)


class TimerViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The timers the clock keeps, as last stored. Staff see every timer; requesters the SLA
    timers of the tickets they may see (never OLAs or UCs)."""

    queryset = SlaTimer.objects.all()
    serializer_class = serializers.SlaTimerSerializer
    filterset_class = TimerFilterSet
    ordering_fields = ("id", "started_at")

    def get_queryset(self):
        return SlaTimer.objects.restrict(self.request.user, "view").select_related("ticket", "policy")


class TicketClockView(ApiViewMixin, generics.GenericAPIView):
    """A ticket's clock, measured now: every timer you may see with the business minutes used,
    its running and paused segments and the thresholds reached; for a ticket without timers,
    why no SLA policy covers it."""

    serializer_class = serializers.SlaTicketClockSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "number",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The ticket's number (INC… or REQ…).",
                pattern="^[A-Za-z0-9]+$",
            )
        ],
        responses=serializers.SlaTicketClockSerializer,
    )
    def get(self, request, number: str):
        ticket = (
            Ticket.objects.restrict(request.user, "view")
            .select_related("service", "organization", "category")
            .filter(number=number)
            .first()
        )
        if ticket is None:
            raise exceptions.NotFound("No ticket with that number, or not one you may see.")
        data = ticket_clock(ticket, request.user, timezone.now())
        return Response(serializers.SlaTicketClockSerializer(data).data)
