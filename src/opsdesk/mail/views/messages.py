"""Inbound message screens: the list (filters by mailbox, status, sender and date, newest first),
one message (headers, text, the sanitized HTML, attachments, outcome), retry of a quarantined
message and the raw ``.eml`` download (administrators only, always as an attachment)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.views import View

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.views import ObjectDetailView, ObjectListView, RestrictedObjectMixin, may
from opsdesk.mail import services
from opsdesk.mail.choices import RETRYABLE_STATUSES, InboundStatus
from opsdesk.mail.forms import InboundMessageFilterSet
from opsdesk.mail.models import InboundMessage
from opsdesk.mail.parsing import ParsedMessage, html_without_cid_images, parse_message
from opsdesk.mail.permissions import may_download_raw

logger = logging.getLogger("opsdesk.mail")


class MessageListView(ObjectListView):
    model = InboundMessage
    filterset_class = InboundMessageFilterSet
    template_name = "mail/message_list.html"
    search_fields = ("subject", "from_address", "from_name", "message_id")
    ordering_fields = {"received": "received_at", "sender": "from_address", "status": "status"}
    default_ordering = "-received_at"
    select_related = ("mailbox", "ticket")
    list_url_name = "mail:message_list"

    def add_url(self) -> str | None:
        return None

    def extra_context(self) -> dict[str, Any]:
        return {
            "quarantined_count": self.restricted_queryset().filter(status=InboundStatus.QUARANTINED).count()
        }


def read_stored(message: InboundMessage) -> tuple[ParsedMessage | None, str]:
    """The stored message parsed again (the parser never raises), or why it cannot be shown."""
    if not message.raw:
        return None, ""
    try:
        with message.raw.open("rb") as handle:
            raw = handle.read()
    except OSError as exc:
        logger.warning("mail: the stored copy of message #%s cannot be read: %s", message.pk, exc)
        return None, "The stored copy of this message cannot be read from the media storage."
    return parse_message(raw), ""


class MessageDetailView(ObjectDetailView):
    model = InboundMessage
    template_name = "mail/message_detail.html"
    select_related = ("mailbox", "ticket", "event", "duplicate_of")
    list_url_name = "mail:message_list"

    def extra_context(self, instance: InboundMessage) -> dict[str, Any]:
        user = self.request.user
        parsed, unreadable = read_stored(instance)
        html = html_without_cid_images(parsed.html, parsed.attachments) if parsed and parsed.html else ""
        return {
            "parsed": parsed,
            "unreadable": unreadable,
            # Sanitized by the parser (nh3, the same as tickets' rich text); never the raw HTML.
            "safe_html": html,
            "attachments": [
                {"name": item.name, "type": item.content_type, "size": len(item.data), "inline": item.inline}
                for item in (parsed.attachments if parsed else [])
            ],
            "can_retry": instance.status in RETRYABLE_STATUSES and may(user, "change", instance),
            "can_download": bool(instance.raw) and may_download_raw(user),
            "duplicates": list(instance.duplicates.restrict(user, "view").order_by("received_at")[:20]),
        }


class MessageRetryView(RestrictedObjectMixin, View):
    """POST only: process a quarantined message again, through the service the API uses."""

    model = InboundMessage
    http_method_names = ["post"]

    def post(self, request, pk: int):
        message = self.get_object()
        try:
            message = services.inbound_retry(actor=request.user, message=message)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(message.get_absolute_url())
        if message.status == InboundStatus.PROCESSED:
            where = f" into {message.ticket.number}" if message.ticket else ""
            messages.success(request, f"Processed{where}.")
        elif message.status == InboundStatus.QUARANTINED:
            messages.error(request, f"Still quarantined: {message.reason}")
        else:
            messages.info(request, f"{message.get_status_display()}: {message.reason}")
        return HttpResponseRedirect(message.get_absolute_url())


class MessageRawView(RestrictedObjectMixin, View):
    """The message exactly as delivered, as a download (administrators only; never inline)."""

    model = InboundMessage
    http_method_names = ["get"]

    def get(self, request, pk: int):
        message = self.get_object()
        if not may_download_raw(request.user):
            raise PermissionDenied("Raw messages download for administrators only.")
        if not message.raw:
            raise Http404("A duplicate keeps no copy of its own: download the original.")
        try:
            handle = message.raw.open("rb")
        except OSError as exc:
            raise Http404("The stored copy of this message cannot be read.") from exc
        response = FileResponse(
            handle, as_attachment=True, filename=f"message-{message.pk}.eml", content_type="message/rfc822"
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response
