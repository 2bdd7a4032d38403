"""Support policies: versioned documents, linked to services, published to requesters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from opsdesk.core.models import AuditedModel
from opsdesk.portfolio.choices import PolicyStatus
from opsdesk.portfolio.models.catalogue import Service


class SupportPolicy(AuditedModel):
    """A support policy (hours, coverage, priorities, escalation) with a history of versions."""

    name = models.CharField(max_length=150, unique=True)
    services = models.ManyToManyField(Service, blank=True, related_name="support_policies")

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "support policies"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:policy_detail", args=[self.pk])


class SupportPolicyVersion(AuditedModel):
    """One version of a policy's text. A published version takes effect on its effective date
    and stays in force until a later published version takes effect."""

    policy = models.ForeignKey(SupportPolicy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT)
    effective_from = models.DateField()
    support_hours = models.TextField(help_text="When support is available.")
    coverage = models.TextField(help_text="What is covered, and what is not.")
    priority_definitions = models.TextField(help_text="What each priority means.")
    escalation_rules = models.TextField(help_text="How and when issues are escalated.")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("policy", "-number")
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="unique_policy_version")]
        indexes = [
            models.Index(fields=["policy", "status", "-effective_from"], name="policy_version_current_idx")
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"
