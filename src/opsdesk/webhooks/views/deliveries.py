"""The delivery log: every request to every source, filterable, one delivery's detail (its
payload pretty-printed and escaped) and, for administrators, replaying a failed one."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.views import View

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.views import ObjectDetailView, ObjectListView, RestrictedObjectMixin, may
from opsdesk.webhooks import services
from opsdesk.webhooks.choices import DeliveryStatus
from opsdesk.webhooks.filtersets import DeliveryFilterSet
from opsdesk.webhooks.models import WebhookDelivery
from opsdesk.webhooks.selectors import delivery_get_for, delivery_list_for

PAYLOAD_PREVIEW_CHARS = 200_000


class DeliveryListView(ObjectListView):
    model = WebhookDelivery
    filterset_class = DeliveryFilterSet
    template_name = "webhooks/delivery_list.html"
    search_fields = ("delivery_id", "external_id", "error")
    ordering_fields = {"received": "received_at", "status": "status", "source": "source__name"}
    default_ordering = "-received_at"
    list_url_name = "webhooks:delivery_list"

    def restricted_queryset(self, action: str = "view"):
        return delivery_list_for(user=self.request.user)

    def add_url(self) -> str | None:
        return None


class DeliveryDetailView(ObjectDetailView):
    model = WebhookDelivery
    template_name = "webhooks/delivery_detail.html"
    list_url_name = "webhooks:delivery_list"

    def get_object(self):
        try:
            return delivery_get_for(user=self.request.user, pk=self.kwargs["pk"])
        except WebhookDelivery.DoesNotExist as exc:
            raise Http404("No webhook delivery here.") from exc

    def extra_context(self, instance: WebhookDelivery) -> dict[str, Any]:
        payload = None
        if instance.payload is not None:
            payload = json.dumps(instance.payload, indent=2, ensure_ascii=False, sort_keys=True)
            if len(payload) > PAYLOAD_PREVIEW_CHARS:
                payload = payload[:PAYLOAD_PREVIEW_CHARS] + "\n… (cut for display)"
        replayable = instance.status == DeliveryStatus.FAILED and instance.payload is not None
        return {
            "payload": payload,
            "can_replay": replayable and may(self.request.user, "change", instance),
            "replays": list(instance.replays.all()),
            "duplicates_count": instance.duplicates.count(),
        }


class DeliveryReplayView(RestrictedObjectMixin, View):
    """POST only: process a failed delivery's payload again."""

    model = WebhookDelivery

    def post(self, request, pk: int):
        try:
            delivery = delivery_get_for(user=request.user, pk=pk)
        except WebhookDelivery.DoesNotExist as exc:
            raise Http404("No webhook delivery here.") from exc
        try:
            replay = services.delivery_replay(actor=request.user, delivery=delivery)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(delivery.get_absolute_url())
        if replay.status == DeliveryStatus.PROCESSED:
            messages.success(request, f"Replayed: {replay.get_action_display().lower()}.")
        else:
            messages.error(request, f"The replay failed again: {replay.error}")
        return HttpResponseRedirect(replay.get_absolute_url())
