"""What people add to a ticket besides words: attachments, and links to related tickets."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from opsdesk.core.models import AuditedModel
from opsdesk.core.uploads import random_upload_path
from opsdesk.tickets.models.desk import Ticket, TimelineEvent


def _attachment_path(instance: Attachment, filename: str) -> str:
    return random_upload_path(f"tickets/{instance.ticket_id}", filename)


class Attachment(AuditedModel):
    """A file on a ticket, stored under a random name; served as a download under its original name."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=_attachment_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    is_public = models.BooleanField(default=True, help_text="Visible to the requester.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("ticket", "created_at")

    def __str__(self) -> str:
        return self.original_name


class TicketRelation(AuditedModel):
    """Two tickets that are related (neither parent nor duplicate): stored once, shown on both."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="relations_out")
    related = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="relations_in")

    class Meta:
        ordering = ("ticket", "related")
        constraints = [models.UniqueConstraint(fields=["ticket", "related"], name="unique_ticket_relation")]

    def __str__(self) -> str:
        return f"{self.ticket.number} ↔ {self.related.number}"

    def clean(self) -> None:
        if self.ticket_id == self.related_id:
            raise ValidationError({"related": "A ticket is not related to itself."})


class Survey(AuditedModel):
    """The requester's rating of a resolved ticket: 1–5 and a comment, by portal or one-click link."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    token = models.CharField(max_length=64, unique=True, help_text="For the one-click link in the e-mail.")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the e-mail asking for it went out."
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(
        default=False, db_index=True, help_text="A low rating flags the ticket."
    )

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.rating or '—'}"
