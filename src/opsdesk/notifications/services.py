"""Writes for notifications: templates and preferences (people, through the UI and the API),
and the outbox (the worker): one message per recipient of an event, sent with retries.

Delivery is at least once and never twice at the same time: an attempt first claims the
message by moving its counters with a compare-and-set update, booking the next attempt in the
same step, so a worker that dies mid-send leaves a message that is retried on time.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update
from opsdesk.notifications import rendering, selectors
from opsdesk.notifications.choices import MessageStatus, NotificationEvent
from opsdesk.notifications.constants import (
    BACKOFF_FACTOR,
    FIRST_RETRY_MINUTES,
    MAX_ATTEMPTS,
    MAX_BODY_TEMPLATE,
    MAX_ERROR,
    MAX_SUBJECT_TEMPLATE,
    RETRY_BATCH,
)
from opsdesk.notifications.defaults import default_template
from opsdesk.notifications.models import NotificationPreference, NotificationTemplate, OutboundMessage
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.mail_threading import message_id_for, thread_id_for
from opsdesk.tickets.models import TimelineEvent

logger = logging.getLogger("opsdesk.notifications")


# --- templates ----------------------------------------------------------------------------------


def _check_template_input(*, event: str, language: str, subject: str, body_html: str, body_text: str) -> dict:
    if event not in NotificationEvent.values:
        raise ServiceError(f"The event is one of: {', '.join(NotificationEvent.values)}.", field="event")
    if language not in dict(settings.LANGUAGES):
        raise ServiceError(
            f"The language is one of: {', '.join(code for code, _ in settings.LANGUAGES)}.", field="language"
        )
    template = {"subject": subject or "", "body_html": body_html or "", "body_text": body_text or ""}
    for field, limit in (
        ("subject", MAX_SUBJECT_TEMPLATE),
        ("body_html", MAX_BODY_TEMPLATE),
        ("body_text", MAX_BODY_TEMPLATE),
    ):
        if not template[field].strip():
            raise ServiceError("This part of the message cannot be empty.", field=field)
        if len(template[field]) > limit:
            raise ServiceError(f"At most {limit} characters.", field=field)
        if "\x00" in template[field]:
            raise ServiceError("NUL characters are not allowed.", field=field)
    problems = rendering.template_problems(template)
    if problems:
        first = problems[0]
        raise ServiceError(f"The template has an error at {first}", code="template_error", field=first.field)
    return template


def template_save(
    *,
    actor: User,
    event: str,
    language: str,
    subject: str,
    body_html: str,
    body_text: str,
    expected_version: int | None = None,
) -> NotificationTemplate:
    """Save the template of ``event`` in ``language`` (administrators). A template with a syntax
    error, or one that does not render with the sample ticket, is refused with the reason and line."""
    ensure_allowed(actor=actor, action="change", model=NotificationTemplate)
    data = _check_template_input(
        event=event, language=language, subject=subject, body_html=body_html, body_text=body_text
    )
    current = NotificationTemplate.objects.filter(event=event, language=language).first()
    if current is None:
        return record_create(
            model=NotificationTemplate, actor=actor, data={"event": event, "language": language, **data}
        )
    return record_update(instance=current, actor=actor, data=data, expected_version=expected_version)


def template_reset(*, actor: User, event: str, language: str) -> bool:
    """Drop an administrator's template so the shipped default applies again; False if none was saved."""
    current = NotificationTemplate.objects.filter(event=event, language=language).first()
    if current is None:
        return False
    record_delete(instance=current, actor=actor)
    return True


def template_preview(
    *, event: str, language: str, subject: str, body_html: str, body_text: str
) -> rendering.RenderedMessage:
    """The template rendered with the sample ticket, or ServiceError naming the problem."""
    data = _check_template_input(
        event=event, language=language, subject=subject, body_html=body_html, body_text=body_text
    )
    return rendering.render_message(data, rendering.sample_context(), ticket_number="INC0001234")


# --- preferences --------------------------------------------------------------------------------


def preferences_save(*, actor: User, user: User, choices: dict[str, Any]) -> dict[str, bool]:
    """Set which notifications ``user`` gets (their own only). Events not named keep their state."""
    if actor.pk != user.pk:
        raise NotAllowed("You choose your own notifications only.")
    allowed = selectors.events_for(user)
    unknown = sorted(set(choices) - set(allowed))
    if unknown:
        raise ServiceError(
            f"Unknown notification {unknown[0]!r}; yours are: {', '.join(allowed)}.", field=unknown[0]
        )
    for event, enabled in choices.items():
        if not isinstance(enabled, bool):
            raise ServiceError("On (true) or off (false).", field=event)
    with transaction.atomic(), acting(actor=actor):
        for event, enabled in choices.items():
            NotificationPreference.objects.update_or_create(
                user=user, event=event, defaults={"enabled": enabled}
            )
    logger.info("%s set notification preferences %s", user.username, choices)
    return selectors.preferences_for(user)


# --- the outbox ---------------------------------------------------------------------------------


def _context_for(event: TimelineEvent, kind: str, recipient: selectors.Recipient) -> dict[str, Any]:
    context = rendering.base_context(ticket=event.ticket, actor=event.author, recipient_name=recipient.name)
    if kind == NotificationEvent.REPLY and event.kind == EventKind.PUBLIC_REPLY:
        context["reply"] = rendering.rich_text(event.body_html, event.body)
    elif kind in (NotificationEvent.STATUS, NotificationEvent.RESOLVED) and event.body:
        context["note"] = rendering.rich_text(event.body_html, event.body)
    elif kind == NotificationEvent.SLA_WARNING:
        percents = (event.data or {}).get("percent") or []
        context["sla"] = {"text": event.body, "percent": str(max(percents)) if percents else ""}
    return context


def messages_prepare(*, event_id: int) -> list[int]:
    """Write one outbox message per recipient of the timeline event; returns the ids of the
    messages still to send. Running it again for the same event adds nothing."""
    event = (
        TimelineEvent.objects.select_related(
            "ticket__requester", "ticket__assignee", "ticket__assigned_team__lead", "author"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return []
    kind = selectors.notification_kind(event)
    if kind is None:
        return []
    ticket = event.ticket
    thread = thread_id_for(ticket.number)
    templates: dict[str, dict[str, str]] = {}
    for recipient in selectors.recipients_for(event, kind):
        if OutboundMessage.objects.filter(event=event, address=recipient.address).exists():
            continue
        if recipient.language not in templates:
            templates[recipient.language] = selectors.template_for(kind, recipient.language)
        try:
            rendered = rendering.render_message(
                templates[recipient.language],
                _context_for(event, kind, recipient),
                ticket_number=ticket.number,
            )
        except Exception:
            # A saved template is checked on save; should one still fail, the shipped default speaks.
            logger.exception("template %s/%s failed; using the default", kind, recipient.language)
            rendered = rendering.render_message(
                default_template(kind, recipient.language),
                _context_for(event, kind, recipient),
                ticket_number=ticket.number,
            )
        try:
            with transaction.atomic():
                OutboundMessage.objects.create(
                    event=event,
                    ticket=ticket,
                    kind=kind,
                    recipient=recipient.user,
                    address=recipient.address,
                    language=recipient.language,
                    subject=rendered.subject,
                    body_text=rendered.body_text,
                    body_html=rendered.body_html,
                    message_id=message_id_for(ticket.number),
                    in_reply_to=thread,
                    references=thread,
                    next_attempt_at=timezone.now(),
                )
        except IntegrityError:  # another run of this event wrote it first
            continue
    return list(
        OutboundMessage.objects.filter(event=event, status=MessageStatus.QUEUED).values_list("pk", flat=True)
    )


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1, 5, 25, 125… minutes)."""
    return timedelta(minutes=FIRST_RETRY_MINUTES * BACKOFF_FACTOR ** max(attempt - 1, 0))


def _permanent(error: Exception) -> bool:
    """A 5xx answer about this message or its recipient will not change by retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _email(message: OutboundMessage) -> EmailMultiAlternatives:
    clean = rendering.header_value
    reply_to = clean(
        getattr(settings, "OPSDESK_NOTIFY_REPLY_TO", "") or settings.DEFAULT_FROM_EMAIL, limit=254
    )
    email = EmailMultiAlternatives(
        subject=clean(message.subject),
        body=message.body_text,
        from_email=clean(settings.DEFAULT_FROM_EMAIL, limit=254),
        to=[clean(message.address, limit=254)],
        reply_to=[reply_to],
        headers={
            "Message-ID": clean(message.message_id),
            "In-Reply-To": clean(message.in_reply_to),
            "References": clean(message.references),
            # Loop protection: auto-responders and our own intake leave this mail alone.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    email.attach_alternative(message.body_html, "text/html")
    return email


def message_deliver(*, message_id: int, now: datetime | None = None) -> str:
    """Make one attempt at sending a queued message that is due; returns its status after."""
    now = now or timezone.now()
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return ""
    if message.status != MessageStatus.QUEUED or (message.next_attempt_at and message.next_attempt_at > now):
        return message.status
    attempt = message.attempts + 1
    claimed = OutboundMessage.objects.filter(
        pk=message.pk, status=MessageStatus.QUEUED, attempts=message.attempts
    ).update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + retry_delay(attempt))
    if not claimed:
        return MessageStatus.QUEUED  # another worker is on it
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([_email(message)])
    except (smtplib.SMTPException, OSError) as error:
        final = _permanent(error) or attempt >= MAX_ATTEMPTS
        fields = {"last_error": f"{type(error).__name__}: {error}"[:MAX_ERROR]}
        if final:
            fields.update(status=MessageStatus.FAILED, next_attempt_at=None)
        OutboundMessage.objects.filter(pk=message.pk).update(**fields)
        log = logger.error if final else logger.warning
        log(
            "message %s to %s about %s: attempt %s failed (%s)%s",
            message.pk,
            message.address,
            message.ticket_id,
            attempt,
            error,
            "; giving up" if final else f"; next try at {now + retry_delay(attempt):%H:%M}",
        )
        return MessageStatus.FAILED if final else MessageStatus.QUEUED
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    logger.info("message %s sent to %s (%s)", message.pk, message.address, message.subject)
    return MessageStatus.SENT


def messages_due(*, now: datetime | None = None, limit: int = RETRY_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        OutboundMessage.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def messages_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Attempt every queued message whose time has come (the retry sweep)."""
    now = now or timezone.now()
    counts = {MessageStatus.SENT: 0, MessageStatus.QUEUED: 0, MessageStatus.FAILED: 0}
    for pk in messages_due(now=now):
        status = message_deliver(message_id=pk, now=now)
        if status in counts:
            counts[status] += 1
    return {str(key): value for key, value in counts.items()}


def message_retry(*, actor: User, message: OutboundMessage) -> OutboundMessage:
    """Queue a failed or waiting message for an attempt now (administrators and managers).
    A failed message gets one more attempt; the worker picks it up within a minute."""
    ensure_allowed(actor=actor, action="change", instance=message)
    if message.status == MessageStatus.SENT:
        raise ServiceError("This message was sent; nothing to retry.", code="already_sent")
    with transaction.atomic(), acting(actor=actor):
        attempts = min(message.attempts, MAX_ATTEMPTS - 1)
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, attempts=attempts, next_attempt_at=timezone.now()
        )
    logger.info("%s queued message %s for another attempt", actor.username, message.pk)
    message.refresh_from_db()
    return message
