"""Mailboxes the desk reads (IMAP polled, or fed by the built-in SMTP/LMTP receiver) and every
message that arrived through them, kept raw, with what became of it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from opsdesk.accounts.models import Team
from opsdesk.core.models import AuditedModel, TimeStampedModel
from opsdesk.mail.choices import AfterProcessing, ImapAuth, ImapSecurity, InboundStatus, MailboxKind
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import TicketType
from opsdesk.tickets.models import Ticket, TimelineEvent


class Mailbox(AuditedModel):
    """An address the desk receives mail at, and where its tickets go (team, service, type).

    IMAP mailboxes are polled every minute; LMTP mailboxes receive from the built-in
    SMTP/LMTP receiver (``OPSDESK_SMTP_LISTEN``) by their address. Secrets (password, OAuth2
    token) never enter the audit trail.
    """

    name = models.CharField(max_length=100, unique=True)
    address = models.EmailField(unique=True, help_text="Mail to this address lands here.")
    kind = models.CharField(max_length=4, choices=MailboxKind.choices, default=MailboxKind.IMAP)
    is_active = models.BooleanField(default=True)
    # Where its tickets go.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="mailboxes")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="mailboxes"
    )
    ticket_type = models.CharField(max_length=10, choices=TicketType.choices, default=TicketType.INCIDENT)
    # IMAP connection.
    imap_host = models.CharField("IMAP host", max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(
        "IMAP port", null=True, blank=True, help_text="Empty: 993 or 143."
    )
    imap_security = models.CharField(
        "security", max_length=8, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_auth = models.CharField("sign-in", max_length=8, choices=ImapAuth.choices, default=ImapAuth.PASSWORD)
    username = models.CharField(max_length=255, blank=True)
    password = models.CharField(max_length=500, blank=True)
    oauth2_token = models.TextField("OAuth2 access token", blank=True)
    folder = models.CharField(max_length=200, default="INBOX")
    after_processing = models.CharField(
        max_length=6, choices=AfterProcessing.choices, default=AfterProcessing.MOVE
    )
    processed_folder = models.CharField(
        max_length=200, default="OpsDesk Processed", blank=True, help_text="For “move to a folder”."
    )
    # Polling state, kept by the poller.
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_poll_ok = models.BooleanField(null=True, editable=False)
    last_poll_message = models.TextField(blank=True, editable=False)
    # One poller at a time: a poll claims the mailbox until this moment.
    poll_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    audit_redact = ("password", "oauth2_token")
    # The poller's bookkeeping changes every minute: it is not an edit anyone made.
    audit_ignore = (
        "created_at",
        "updated_at",
        "version",
        "last_uid",
        "uidvalidity",
        "last_polled_at",
        "last_poll_ok",
        "last_poll_message",
        "poll_lease_until",
    )

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def get_absolute_url(self) -> str:
        return reverse("mail:mailbox_detail", args=[self.pk])

    def save(self, *args, **kwargs) -> None:
        self.address = (self.address or "").strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.kind != MailboxKind.IMAP:
            return
        errors = {}
        if not self.imap_host:
            errors["imap_host"] = "An IMAP mailbox needs its server's host name."
        if not self.username:
            errors["username"] = "An IMAP mailbox needs the user name to sign in with."
        if self.imap_auth == ImapAuth.XOAUTH2 and not self.oauth2_token:
            errors["oauth2_token"] = "Paste the OAuth2 access token (XOAUTH2 sign-in)."
        if self.imap_auth == ImapAuth.PASSWORD and not self.password:
            errors["password"] = "Give the password to sign in with."
        if self.after_processing == AfterProcessing.MOVE and not self.processed_folder.strip():
            errors["processed_folder"] = "Name the folder processed messages move to."
        if errors:
            raise ValidationError(errors)

    @property
    def port(self) -> int:
        if self.imap_port:
            return self.imap_port
        return 993 if self.imap_security == ImapSecurity.SSL else 143


def raw_upload_to(instance: InboundMessage, filename: str) -> str:
    return f"mail/raw/{instance.received_at:%Y/%m/%d}/{filename}"


class InboundMessage(TimeStampedModel):
    """One message as delivered, kept raw (``raw`` under the media storage), and its outcome.

    ``dedupe_key`` is the Message-ID (or, without one, the SHA-256 of the raw bytes): a second
    delivery of the same message is recorded as a duplicate of the first and creates nothing.
    An IMAP message is also known by its mailbox, UIDVALIDITY and UID.
    """

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    message_id = models.CharField(max_length=998, blank=True)
    dedupe_key = models.CharField(max_length=255, editable=False)
    sha256 = models.CharField(max_length=64)
    imap_uid = models.PositiveBigIntegerField(null=True, blank=True)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True)
    raw = models.FileField(upload_to=raw_upload_to, max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    envelope_from = models.CharField(max_length=320, blank=True)
    from_address = models.CharField(max_length=320, blank=True, db_index=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why it was ignored or quarantined.")
    notes = models.JSONField(default=list, blank=True, help_text="What the parser had to work around.")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = [
            # One original per message: duplicates point at it instead.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(status=InboundStatus.DUPLICATE),
                name="mail_inbound_one_original",
            ),
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "imap_uid"],
                condition=Q(imap_uid__isnull=False),
                name="mail_inbound_unique_uid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="mail_inbound_status_idx"),
            models.Index(fields=["from_address", "received_at"], name="mail_inbound_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} from {self.from_address or 'unknown'}"

    def get_absolute_url(self) -> str:
        return reverse("mail:message_detail", args=[self.pk])
