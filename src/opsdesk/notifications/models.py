"""Notification templates (editable per event and language), each person's choices, and the
outbox: every message the desk sends about a ticket, with its delivery state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from opsdesk.core.models import AuditedModel, TimeStampedModel
from opsdesk.notifications.choices import MessageStatus, NotificationEvent
from opsdesk.tickets.models import Ticket, TimelineEvent


class NotificationTemplate(AuditedModel):
    """The subject, HTML and text of one event's e-mail in one language. Where none is saved,
    the shipped default applies; saving one customises it, deleting it restores the default."""

    event = models.CharField(max_length=20, choices=NotificationEvent.choices)
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(max_length=500)
    body_html = models.TextField("HTML body")
    body_text = models.TextField("text body")

    class Meta:
        ordering = ("event", "language")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "language"], name="one_notification_template_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} ({self.language})"

    def get_absolute_url(self) -> str:
        return reverse("notifications:template_edit", args=[self.event, self.language])


class NotificationPreference(TimeStampedModel):
    """One person's choice for one event; without a row, their role's default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=20, choices=NotificationEvent.choices)
    enabled = models.BooleanField()

    class Meta:
        ordering = ("user", "event")
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="one_notification_preference_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.event} {'on' if self.enabled else 'off'}"


class OutboundMessage(TimeStampedModel):
    """One e-mail to one address about one timeline event. Written once when the event is
    announced (so a retried announcement writes nothing twice), then sent, retried with growing
    waits, and finally marked sent or failed."""

    event = models.ForeignKey(TimelineEvent, on_delete=models.CASCADE, related_name="outbound_messages")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="outbound_messages")
    kind = models.CharField(max_length=20, choices=NotificationEvent.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.EmailField(max_length=254)
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    message_id = models.CharField(max_length=250, unique=True)
    in_reply_to = models.CharField(max_length=250)
    references = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=["event", "address"], name="one_message_per_event_and_address")
        ]
        indexes = [
            # The retry sweep: queued messages whose next attempt is due.
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due_idx"),
            models.Index(fields=["ticket", "-id"], name="outbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.address} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("notifications:outbox_detail", args=[self.pk])
