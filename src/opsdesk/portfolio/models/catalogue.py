"""Services, their offerings, dependencies, support tiers, delivery locations and the
business objectives they serve."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from opsdesk.accounts.choices import Tier
from opsdesk.accounts.models import Location, Team
from opsdesk.core.models import AuditedModel
from opsdesk.core.querysets import RestrictedQuerySet
from opsdesk.portfolio.choices import (
    Alignment,
    Channel,
    CostPeriod,
    Criticality,
    DeliveryType,
    KpiDirection,
    LocationDelivery,
    ObjectiveKind,
    ServiceType,
    Stage,
    SupportMode,
)
from opsdesk.portfolio.models.calendars import BusinessCalendar

MONEY = {"max_digits": 12, "decimal_places": 2}


def validate_channels(value: object) -> None:
    allowed = set(Channel.values)
    if not isinstance(value, list) or any(item not in allowed for item in value):
        raise ValidationError(f"Channels are a list drawn from: {', '.join(Channel.values)}.")
    if len(set(value)) != len(value):
        raise ValidationError("Each channel once.")


def validate_languages(value: object) -> None:
    if not isinstance(value, list) or any(
        not isinstance(item, str) or not 2 <= len(item) <= 10 for item in value
    ):
        raise ValidationError("Languages are a list of codes such as 'en', 'de', 'pt-BR'.")


class BusinessObjective(AuditedModel):
    """What the business wants to achieve (an objective) or be able to do (a capability)."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=20, choices=ObjectiveKind.choices, default=ObjectiveKind.OBJECTIVE)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_objectives",
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:objective_detail", args=[self.pk])

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "The period must end on or after its start."})


class Kpi(AuditedModel):
    """A measurable indicator of an objective: a target and the latest actual value."""

    objective = models.ForeignKey(BusinessObjective, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=150)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, hours, EUR")
    target = models.DecimalField(max_digits=14, decimal_places=2)
    actual = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    direction = models.CharField(
        max_length=10, choices=KpiDirection.choices, default=KpiDirection.HIGHER_IS_BETTER
    )

    class Meta:
        ordering = ("objective", "name")
        constraints = [models.UniqueConstraint(fields=["objective", "name"], name="unique_kpi_per_objective")]

    def __str__(self) -> str:
        return f"{self.objective}: {self.name}"

    @property
    def on_target(self) -> bool | None:
        if self.actual is None:
            return None
        if self.direction == KpiDirection.HIGHER_IS_BETTER:
            return self.actual >= self.target
        return self.actual <= self.target


class Service(AuditedModel):
    """Something IT delivers or supports, with its place in the portfolio and how it is run."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True, help_text="What the service does, in the words of its users.")
    type = models.CharField(max_length=20, choices=ServiceType.choices, default=ServiceType.BUSINESS)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PIPELINE, db_index=True)
    pipeline_at = models.DateField(null=True, blank=True)
    catalogue_at = models.DateField(null=True, blank=True)
    retired_at = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_services",
    )
    criticality = models.PositiveSmallIntegerField(choices=Criticality.choices, default=Criticality.MEDIUM)
    service_hours = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="services"
    )
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, through="ServiceDependency", related_name="dependents", blank=True
    )
    escalation_teams = models.ManyToManyField(Team, blank=True, related_name="escalation_for_services")
    channels = models.JSONField(default=list, blank=True, validators=[validate_channels])
    service_levels = models.TextField(blank=True, help_text="The service levels offered, in words.")
    delivery_type = models.CharField(
        max_length=20, choices=DeliveryType.choices, default=DeliveryType.IN_HOUSE
    )
    support_mode = models.CharField(max_length=20, choices=SupportMode.choices, default=SupportMode.REMOTE)
    support_languages = models.JSONField(default=list, blank=True, validators=[validate_languages])
    objectives = models.ManyToManyField(
        BusinessObjective, through="ServiceObjective", related_name="services", blank=True
    )

    class Meta:
        ordering = ("name",)
        indexes = [models.Index(fields=["stage", "type"], name="service_stage_type_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:service_detail", args=[self.pk])


class ServiceStageChange(models.Model):
    """One move of a service through the portfolio's stages (append-only history)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="stage_history")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    effective = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("service", "at", "id")

    def __str__(self) -> str:
        return f"{self.service}: {self.from_stage or '—'} → {self.to_stage} on {self.effective}"


class ServiceDependency(AuditedModel):
    """``service`` needs ``depends_on`` to work. Cycles are refused by the service layer."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependent_links")

    class Meta:
        ordering = ("service", "depends_on")
        constraints = [
            models.UniqueConstraint(fields=["service", "depends_on"], name="unique_service_dependency"),
            models.CheckConstraint(
                condition=~models.Q(service=models.F("depends_on")), name="no_self_dependency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} → {self.depends_on}"


class ServiceSupportTier(AuditedModel):
    """Which team supports a service at a tier, and who staffs it (in-house, provider, …)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="support_tiers")
    tier = models.CharField(max_length=2, choices=Tier.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="supported_services")
    staffed_by = models.CharField(max_length=150, blank=True, help_text="e.g. in-house, Contoso (outsourced)")

    class Meta:
        ordering = ("service", "tier")
        constraints = [models.UniqueConstraint(fields=["service", "tier"], name="one_team_per_service_tier")]

    def __str__(self) -> str:
        return f"{self.service} {self.tier}: {self.team.name}"


class ServiceLocation(AuditedModel):
    """Where a service is delivered and how: by a team on site, or remotely only."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="delivery_locations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="delivered_services")
    delivery = models.CharField(
        max_length=20, choices=LocationDelivery.choices, default=LocationDelivery.REMOTE_ONLY
    )
    on_site_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("service", "location")
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="unique_service_location")
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"

    def clean(self) -> None:
        if self.delivery == LocationDelivery.ON_SITE_TEAM and not self.on_site_team_id:
            raise ValidationError({"on_site_team": "Name the team that is on site."})


class ServiceObjective(AuditedModel):
    """How strongly a service serves a business objective."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="objective_links")
    objective = models.ForeignKey(BusinessObjective, on_delete=models.CASCADE, related_name="service_links")
    alignment = models.PositiveSmallIntegerField(choices=Alignment.choices, default=Alignment.IMPORTANT)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("objective", "-alignment")
        constraints = [
            models.UniqueConstraint(fields=["service", "objective"], name="unique_service_objective")
        ]

    def __str__(self) -> str:
        return f"{self.service} serves {self.objective} ({self.alignment})"


class Offering(AuditedModel):
    """A variant of a service people can get (``Laptop — engineering``), with its cost and price."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="offerings")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    included = models.TextField(blank=True, help_text="What is included, one item per line.")
    cost = models.DecimalField(
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What it costs IT to deliver, per period.",
    )
    price = models.DecimalField(
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What the customer is charged, per period.",
    )
    currency = models.CharField(max_length=3, default="EUR")
    period = models.CharField(max_length=10, choices=CostPeriod.choices, default=CostPeriod.MONTH)
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="offerings",
        help_text="Where it is available; none means everywhere.",
    )

    class Meta:
        ordering = ("service", "name")
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="unique_offering_per_service")
        ]

    def __str__(self) -> str:
        return f"{self.service} — {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("portfolio:service_detail", args=[self.service_id]) + f"#offering-{self.pk}"

    @property
    def margin(self) -> Decimal:
        return self.price - self.cost
