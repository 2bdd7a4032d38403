"""Service-level policies and their targets (kept by managers), and the timers that measure
each ticket against them (kept by the clock, never edited by hand)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from opsdesk.accounts.models import Organization, Team
from opsdesk.core.models import AuditedModel
from opsdesk.core.querysets import RestrictedQuerySet
from opsdesk.portfolio.models import BusinessCalendar, Provider, Service
from opsdesk.sla.choices import (
    DEFAULT_THRESHOLDS,
    MAX_TARGET_MINUTES,
    Metric,
    PolicyKind,
    ReopenBehaviour,
    TimerState,
)
from opsdesk.tickets.choices import PendingReason, Priority, TicketType
from opsdesk.tickets.models import Category, Ticket


def default_pause_reasons() -> list[str]:
    return [PendingReason.REQUESTER.value]


def default_thresholds() -> list[int]:
    return list(DEFAULT_THRESHOLDS)


class SlaPolicy(AuditedModel):
    """An agreement: which tickets it covers, on which calendar its targets count, when its
    clock pauses and what a reopen does. Of the active policies of one kind that match a
    ticket, the most specific (the most criteria set) wins; ties go to the lower position.

    - SLA: promised to customers; timed from the ticket's creation.
    - OLA: between internal teams; timed per assignment to ``team``.
    - UC: with an external provider; timed while the ticket waits on a vendor and ``provider``
      delivers the ticket's service.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=3, choices=PolicyKind.choices, default=PolicyKind.SLA)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100, help_text="Breaks ties: lower wins.")
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="sla_policies",
        help_text="Targets count business minutes of this calendar.",
    )
    # What it covers; an empty criterion matches every ticket.
    ticket_types = models.JSONField(default=list, blank=True, help_text="incident, request; empty = both.")
    priorities = models.JSONField(default=list, blank=True, help_text="1 to 5; empty = every priority.")
    services = models.ManyToManyField(Service, blank=True, related_name="sla_policies")
    organizations = models.ManyToManyField(Organization, blank=True, related_name="sla_policies")
    categories = models.ManyToManyField(
        Category, blank=True, related_name="sla_policies", help_text="A category covers its subcategories."
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="ola_policies", help_text="OLA."
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="uc_policies", help_text="UC."
    )
    # How the clock runs.
    pause_reasons = models.JSONField(
        default=default_pause_reasons,
        blank=True,
        help_text="The clock pauses while the ticket is pending for one of these reasons.",
    )
    on_reopen = models.CharField(
        max_length=8, choices=ReopenBehaviour.choices, default=ReopenBehaviour.CONTINUE
    )
    thresholds = models.JSONField(
        default=default_thresholds,
        help_text="Percentages of a target at which warnings fire; 100 is the breach.",
    )

    class Meta:
        ordering = ("kind", "position", "name")
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        indexes = [models.Index(fields=["kind", "is_active", "position"], name="sla_policy_match_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sla:policy_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == PolicyKind.OLA and not self.team_id:
            errors["team"] = "An OLA times the work of one team: pick the team."
        if self.kind != PolicyKind.OLA and self.team_id:
            errors["team"] = "Only an OLA names a team."
        if self.kind == PolicyKind.UC and not self.provider_id:
            errors["provider"] = "A UC times the work of one provider: pick the provider."
        if self.kind != PolicyKind.UC and self.provider_id:
            errors["provider"] = "Only a UC names a provider."
        for name, allowed, message in (
            ("ticket_types", TicketType.values, "incident or request"),
            ("priorities", Priority.values, "priorities from 1 to 5"),
            ("pause_reasons", PendingReason.values, ", ".join(PendingReason.values)),
        ):
            value = getattr(self, name)
            if not isinstance(value, list) or any(
                isinstance(item, bool) or item not in allowed for item in value
            ):
                errors[name] = f"A list of: {message}."
            else:
                setattr(self, name, sorted(set(value), key=list(allowed).index))
        thresholds = self.thresholds
        if (
            not isinstance(thresholds, list)
            or not thresholds
            or any(
                isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 100
                for item in thresholds
            )
        ):
            errors["thresholds"] = "A list of whole percentages from 1 to 100, e.g. [50, 75, 90, 100]."
        else:
            self.thresholds = sorted(set(thresholds) | {100})
        if errors:
            raise ValidationError(errors)


class SlaTarget(AuditedModel):
    """How many business minutes a policy allows for one metric, for one priority or for all
    (a target for the ticket's priority beats the one for every priority)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, null=True, blank=True, help_text="Empty = every priority."
    )
    minutes = models.PositiveIntegerField(help_text="Business minutes of the policy's calendar.")

    class Meta:
        ordering = ("policy", "metric", "priority")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "metric", "priority"], name="one_sla_target_per_cell", nulls_distinct=False
            ),
            models.CheckConstraint(condition=models.Q(minutes__gte=1), name="sla_target_positive"),
        ]

    def __str__(self) -> str:
        priority = f"P{self.priority}" if self.priority else "any priority"
        return f"{self.policy.name}: {self.get_metric_display()} ({priority}) in {self.minutes} min"

    def clean(self) -> None:
        if isinstance(self.minutes, int) and not 1 <= self.minutes <= MAX_TARGET_MINUTES:
            raise ValidationError(
                {"minutes": f"A whole number of business minutes from 1 to {MAX_TARGET_MINUTES}."}
            )
        if self.policy_id and self.policy.kind == PolicyKind.UC and self.metric != Metric.RESOLUTION:
            raise ValidationError({"metric": "A UC times how long the provider takes: resolution only."})
        if self.policy_id and self.policy.kind == PolicyKind.OLA and self.metric == Metric.NEXT_RESPONSE:
            raise ValidationError({"metric": "An OLA has first-response and resolution targets."})


class SlaTimer(models.Model):
    """One measured period of one target on one ticket: from its start to its stop, with every
    running and paused segment. A restart (a reopen with "restart", a new assignment for an OLA,
    a new wait on a vendor for a UC, a new requester message for next response) starts the next
    ``cycle`` as its own row, so earlier periods keep their result.

    Rebuilt from the ticket's timeline by the clock (``sla.services.timers_recompute``), so
    it never drifts from what happened; ``segments`` keeps the wall-clock facts, so re-timing
    after a calendar or target edit needs nothing but this row.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_timers")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="timers")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=3, choices=PolicyKind.choices)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=1)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_minutes = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=TimerState.choices)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    running_since = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.PositiveBigIntegerField(
        default=0, help_text="Business seconds counted up to running_since (or the stop)."
    )
    paused_seconds = models.PositiveBigIntegerField(default=0, help_text="Wall-clock seconds paused.")
    due_at = models.DateTimeField(null=True, blank=True)
    breached = models.BooleanField(default=False)
    breached_at = models.DateTimeField(null=True, blank=True)
    next_alert_at = models.DateTimeField(null=True, blank=True)
    next_alert_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    segments = models.JSONField(default=list)
    reason = models.CharField(max_length=300, blank=True, help_text="Why this policy applies.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("ticket", "kind", "metric", "cycle")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "policy", "metric", "cycle"], name="one_sla_timer_per_cycle"
            )
        ]
        indexes = [
            # The sweep: the next warning or breach due, over running timers only.
            models.Index(
                fields=["next_alert_at"],
                name="sla_timer_alert_idx",
                condition=models.Q(next_alert_at__isnull=False),
            ),
            # "Breaches within N minutes" conditions and the queues' time left.
            models.Index(fields=["state", "due_at"], name="sla_timer_due_idx"),
            # Re-timing after a calendar edit: the open timers on that calendar.
            models.Index(fields=["calendar", "state"], name="sla_timer_calendar_idx"),
            # Reporting by period.
            models.Index(fields=["kind", "metric", "started_at"], name="sla_timer_report_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_metric_display()} ({self.policy_id}, cycle {self.cycle})"

    @property
    def is_open(self) -> bool:
        return self.state in (TimerState.RUNNING, TimerState.PAUSED)


class SlaAlert(models.Model):
    """A threshold of one timer reached (100 = the breach). The unique pair is how a warning
    fires exactly once, however many sweeps run at the same time."""

    timer = models.ForeignKey(SlaTimer, on_delete=models.CASCADE, related_name="alerts")
    percent = models.PositiveSmallIntegerField()
    reached_at = models.DateTimeField(help_text="The exact instant the threshold was reached.")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("timer", "percent")
        constraints = [models.UniqueConstraint(fields=["timer", "percent"], name="sla_alert_once")]

    def __str__(self) -> str:
        return f"timer {self.timer_id}: {self.percent} %"
