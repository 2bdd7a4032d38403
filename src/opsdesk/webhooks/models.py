"""Inbound webhook sources (a sender we trust, its secret and how its payloads become tickets)
and the deliveries they send (every request, accepted or not, with what it did)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.models import Team
from opsdesk.core.models import AuditedModel, TimeStampedModel
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import Level, TicketType
from opsdesk.tickets.models import Category, Ticket
from opsdesk.webhooks.choices import DeliveryAction, DeliveryStatus, SourceChannel, UpdateVisibility
from opsdesk.webhooks.constants import MAX_DELIVERY_ID_LENGTH, MAX_EXTERNAL_ID_LENGTH
from opsdesk.webhooks.payload_mapping import field_map_errors, value_map_errors


def default_field_map() -> dict:
    return {"title": "$.title", "description": "$.description", "external_id": "$.id"}


def default_value_map() -> dict:
    return {}


class WebhookSource(AuditedModel):
    """A system allowed to raise and update tickets by signed webhook (a monitor, a CI server).

    Its secret signs every delivery (HMAC-SHA256). It is stored so that signatures can be
    checked, shown once when made, and never written to the audit trail. After a rotation
    the previous secret may keep working for a grace period, so the sender can switch over.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=50, unique=True, help_text="Part of the address: /webhooks/in/<slug>/. Letters, digits, -."
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="An inactive source answers 404 to everything.")
    secret = models.CharField(max_length=128, editable=False)
    previous_secret = models.CharField(max_length=128, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    require_timestamp = models.BooleanField(
        default=True,
        help_text="Refuse deliveries without a signed X-OpsDesk-Timestamp (protects against replays).",
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="raise tickets as",
        help_text="A service account with the agent role: the requester of the tickets and the author "
        "of their updates.",
    )
    ticket_type = models.CharField(max_length=10, choices=TicketType.choices, default=TicketType.INCIDENT)
    channel = models.CharField(max_length=12, choices=SourceChannel.choices, default=SourceChannel.MONITORING)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Assigned when the routing rules leave a new ticket without a team.",
    )
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    impact = models.PositiveSmallIntegerField(
        choices=Level.choices, default=Level.LOW, help_text="When the payload gives none (or an unknown one)."
    )
    urgency = models.PositiveSmallIntegerField(
        choices=Level.choices, default=Level.LOW, help_text="When the payload gives none (or an unknown one)."
    )
    field_map = models.JSONField(
        default=default_field_map,
        help_text='Ticket field → path in the payload, e.g. {"title": "$.alert.name", "external_id": '
        '"$.alert.id"}. Fields: title (required), description, external_id, impact, urgency, status.',
    )
    value_map = models.JSONField(
        default=default_value_map,
        blank=True,
        help_text="Raw value → ours for impact, urgency (1 high … 3 low) and status (resolved, open), e.g. "
        '{"impact": {"critical": 1, "warning": 2}, "status": {"resolved": "resolved"}}.',
    )
    update_visibility = models.CharField(
        max_length=10,
        choices=UpdateVisibility.choices,
        default=UpdateVisibility.INTERNAL,
        help_text="How a later payload with the same external id is added to its ticket.",
    )

    audit_redact = ("secret", "previous_secret")

    class Meta:
        ordering = ("name",)
        verbose_name = "webhook source"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("webhooks:source_detail", args=[self.pk])

    def endpoint_path(self) -> str:
        return reverse("webhooks:receive", args=[self.slug])

    def secrets_in_force(self, now=None) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        now = now or timezone.now()
        found = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            found.append(self.previous_secret)
        return found

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if problems := field_map_errors(self.field_map):
            errors["field_map"] = problems
        if problems := value_map_errors(self.value_map if self.value_map is not None else {}):
            errors["value_map"] = problems
        if self.account_id:
            account = self.account
            if not account.is_active or not account.is_agent or account.is_read_only:
                errors["account"] = [
                    "Pick an active account with a staff role that may write (an agent, not an auditor): "
                    "it assigns, notes and resolves the tickets it raises."
                ]
        if self.category_id and not self.category.is_active:
            errors["category"] = ["This category is retired; pick an active one."]
        if errors:
            raise ValidationError(errors)


class WebhookDelivery(TimeStampedModel):
    """One request to a source's endpoint: whether it was signed right, what it did and the
    answer it got. The first *processed* delivery of an id is the only one that acts; a
    repeat is recorded as a duplicate of it, a failure can be replayed."""

    source = models.ForeignKey(WebhookSource, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=MAX_DELIVERY_ID_LENGTH, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    signature_valid = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    http_status = models.PositiveSmallIntegerField()
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # Only the bodies of signed deliveries are kept (at most MAX_BODY_BYTES, the request limit).
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    body_bytes = models.PositiveIntegerField(default=0)
    external_id = models.CharField(max_length=MAX_EXTERNAL_ID_LENGTH, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    action = models.CharField(max_length=10, choices=DeliveryAction.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    remote_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # Idempotency: a delivery id acts once per source, whoever wins a concurrent race.
            models.UniqueConstraint(
                fields=["source", "delivery_id"],
                condition=Q(status=DeliveryStatus.PROCESSED),
                name="webhook_delivery_processed_once",
            )
        ]
        indexes = [
            models.Index(fields=["source", "-received_at"], name="webhook_delivery_source_idx"),
            models.Index(fields=["status", "-received_at"], name="webhook_delivery_status_idx"),
            models.Index(fields=["source", "delivery_id"], name="webhook_delivery_id_idx"),
            models.Index(fields=["source", "external_id", "-received_at"], name="webhook_delivery_ext_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} delivery {self.delivery_id or '(no id)'}"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:delivery_detail", args=[self.pk])

    def result(self) -> dict:
        """What the sender is told about this delivery (and about its repeats)."""
        return {
            "delivery": self.delivery_id,
            "status": self.status,
            "action": self.action or None,
            "ticket": self.ticket.number if self.ticket_id else None,
            "warnings": self.warnings,
        }
