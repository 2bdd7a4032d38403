"""Providers, their contracts, and sourcing evaluations that rank candidate providers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from opsdesk.core.models import AuditedModel
from opsdesk.core.uploads import random_upload_path
from opsdesk.portfolio.choices import PERIODS_PER_YEAR, CostPeriod, EvaluationStatus, ProviderKind
from opsdesk.portfolio.models.catalogue import MONEY, Offering, Service

DEFAULT_CRITERIA = (
    ("Cost", Decimal("30")),
    ("Quality", Decimal("30")),
    ("Risk", Decimal("20")),
    ("Strategic fit", Decimal("20")),
)
MAX_SCORE = 10


class Provider(AuditedModel):
    """A vendor, cloud provider or contractor that delivers (part of) a service."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=20, choices=ProviderKind.choices, default=ProviderKind.VENDOR)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="providers")
    offerings = models.ManyToManyField(Offering, blank=True, related_name="providers")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:provider_detail", args=[self.pk])


class ProviderContact(AuditedModel):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=100, blank=True, help_text="e.g. account manager, escalation")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ("provider", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class Contract(AuditedModel):
    """An agreement with a provider: its term, notice period, cost and renewal reminder."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=100, help_text="The contract number or name.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contracts",
        help_text="Who is reminded before the notice date.",
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty for an open-ended contract.")
    notice_period_days = models.PositiveIntegerField(default=90)
    auto_renew = models.BooleanField(default=False)
    reminder_days = models.PositiveIntegerField(
        default=30, help_text="Remind this many days before the notice date."
    )
    reminded_for_notice_date = models.DateField(null=True, blank=True, editable=False)
    cost = models.DecimalField(**MONEY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="EUR")
    cost_period = models.CharField(max_length=10, choices=CostPeriod.choices, default=CostPeriod.YEAR)
    services = models.ManyToManyField(Service, blank=True, related_name="contracts")
    offerings = models.ManyToManyField(Offering, blank=True, related_name="contracts")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("end_date", "reference")
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="unique_contract_reference")
        ]
        indexes = [models.Index(fields=["end_date"], name="contract_end_idx")]

    def __str__(self) -> str:
        return f"{self.provider} — {self.reference}"

    def get_absolute_url(self) -> str:
        return reverse("portfolio:contract_detail", args=[self.pk])

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "A contract cannot end before it starts."})

    @property
    def notice_date(self) -> date | None:
        """The last day to give notice; None for an open-ended contract."""
        return self.end_date - timedelta(days=self.notice_period_days) if self.end_date else None

    @property
    def reminder_date(self) -> date | None:
        notice = self.notice_date
        return notice - timedelta(days=self.reminder_days) if notice else None

    @property
    def yearly_cost(self) -> Decimal:
        return self.cost * PERIODS_PER_YEAR[CostPeriod(self.cost_period)]


def _document_path(instance: ContractDocument, filename: str) -> str:
    return random_upload_path(f"contracts/{instance.contract_id}", filename)


class ContractDocument(AuditedModel):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=_document_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("contract", "-created_at")

    def __str__(self) -> str:
        return self.original_name


class SourcingEvaluation(AuditedModel):
    """Candidate providers scored against weighted criteria, ranked, and a recorded decision."""

    name = models.CharField(max_length=150, unique=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluations"
    )
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.OPEN)
    chosen_provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:evaluation_detail", args=[self.pk])


class EvaluationCriterion(AuditedModel):
    evaluation = models.ForeignKey(SourcingEvaluation, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=100)
    weight = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ("evaluation", "-weight", "name")
        constraints = [models.UniqueConstraint(fields=["evaluation", "name"], name="unique_criterion_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class EvaluationCandidate(AuditedModel):
    evaluation = models.ForeignKey(SourcingEvaluation, on_delete=models.CASCADE, related_name="candidates")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="evaluations")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("evaluation", "provider")
        constraints = [models.UniqueConstraint(fields=["evaluation", "provider"], name="unique_candidate")]

    def __str__(self) -> str:
        return f"{self.provider} in {self.evaluation}"


class EvaluationScore(AuditedModel):
    candidate = models.ForeignKey(EvaluationCandidate, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(EvaluationCriterion, on_delete=models.CASCADE, related_name="scores")
    score = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_SCORE)],
    )

    class Meta:
        ordering = ("candidate", "criterion")
        constraints = [models.UniqueConstraint(fields=["candidate", "criterion"], name="unique_score")]

    def __str__(self) -> str:
        return f"{self.candidate.provider} / {self.criterion.name}: {self.score}"
