"""Reads of the inbound webhooks: the source an endpoint serves, the ticket an external id
already has, and the lists the screens and the API show (always restricted)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from opsdesk.tickets.models import Ticket
from opsdesk.webhooks.choices import DeliveryStatus
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource


def source_for_endpoint(*, slug: str) -> WebhookSource | None:
    """The active source behind ``/webhooks/in/<slug>/``; None for an unknown or inactive one."""
    return (
        WebhookSource.objects.select_related("account", "team", "service", "category")
        .filter(slug=slug, is_active=True)
        .first()
    )


def processed_delivery(*, source: WebhookSource, delivery_id: str) -> WebhookDelivery | None:
    """The delivery that acted on ``delivery_id`` (at most one, by constraint)."""
    return (
        WebhookDelivery.objects.select_related("ticket")
        .filter(source=source, delivery_id=delivery_id, status=DeliveryStatus.PROCESSED)
        .first()
    )


def ticket_for_external_id(*, source: WebhookSource, external_id: str) -> Ticket | None:
    """The ticket the latest processed delivery of this source with this external id acted on."""
    delivery = (
        WebhookDelivery.objects.filter(
            source=source, external_id=external_id, status=DeliveryStatus.PROCESSED, ticket__isnull=False
        )
        .order_by("-received_at", "-id")
        .select_related("ticket")
        .first()
    )
    return delivery.ticket if delivery is not None else None


def source_list_for(*, user: Any) -> QuerySet[WebhookSource]:
    """Sources the user may see, with their delivery figures for the list."""
    return (
        WebhookSource.objects.restrict(user, "view")
        .select_related("account", "team")
        .annotate(
            last_delivery_at=Max("deliveries__received_at"),
            failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
    )


def delivery_list_for(*, user: Any) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.restrict(user, "view").select_related("source", "ticket")


def delivery_get_for(*, user: Any, pk: int) -> WebhookDelivery:
    """The delivery if ``user`` may see it; WebhookDelivery.DoesNotExist otherwise."""
    return delivery_list_for(user=user).select_related("duplicate_of", "replay_of", "replayed_by").get(pk=pk)
