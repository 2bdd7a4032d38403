"""Tickets (incidents and service requests), problems, the priority matrix, categories and
the timeline that records every change and every word exchanged."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from opsdesk.accounts.choices import SkillLevel, Tier
from opsdesk.accounts.models import Organization, Skill, Team
from opsdesk.core.models import AuditedModel, TimeStampedModel
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import (
    Channel,
    EventKind,
    Level,
    PendingReason,
    Priority,
    ProblemStatus,
    ResolutionCode,
    Status,
    TicketType,
)

MAX_CATEGORY_DEPTH = 2  # a category and its subcategories


class NumberSequence(models.Model):
    """The last number handed out per prefix (INC, REQ, PRB). Incremented inside the creating
    transaction, so numbers are unique and gaps appear only when a creation is rolled back."""

    prefix = models.CharField(max_length=3, primary_key=True)
    last = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


class PriorityRule(AuditedModel):
    """One cell of the priority matrix: impact × urgency → priority. Edits are audited."""

    impact = models.PositiveSmallIntegerField(choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ("impact", "urgency")
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="one_priority_per_cell")]

    def __str__(self) -> str:
        return f"impact {self.impact} × urgency {self.urgency} → P{self.priority}"


class Category(AuditedModel):
    """A category, or a subcategory when it has a parent (an editable two-level tree)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    required_skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Skills-based assignment picks agents who hold this skill.",
    )
    min_skill_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices,
        default=SkillLevel.NOVICE,
        help_text="The lowest level of the required skill an agent needs.",
    )

    class Meta:
        ordering = ("parent__name", "name")
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="unique_category_name", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": "Categories have two levels: a category and its subcategories."})
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": "A category cannot be its own parent."})


class Problem(AuditedModel):
    """The unknown cause of one or more incidents; a known error once its cause and workaround are known."""

    number = models.CharField(max_length=16, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.NEW)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="problems"
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MODERATE)
    assigned_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    known_error = models.BooleanField(default=False, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Ticket(AuditedModel):
    """An incident or a service request, from its first word to its closing survey."""

    # The SLA fields are derived data, rewritten by the clock; the timeline explains them.
    audit_ignore = (*AuditedModel.audit_ignore, "sla_due_at", "sla_state")

    number = models.CharField(max_length=16, unique=True)
    type = models.CharField(max_length=10, choices=TicketType.choices, default=TicketType.INCIDENT)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    description_html = models.TextField(blank=True, editable=False, help_text="Rendered and sanitized.")
    # requester, organization, assigned_team and assignee lead composite indexes below: no
    # single-column index of their own (17 indexes slowed every insert).
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets", db_index=False
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PLANNING)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    pending_reason = models.CharField(max_length=12, choices=PendingReason.choices, blank=True)
    assigned_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_tickets", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        db_index=False,
    )
    tier = models.CharField(max_length=2, choices=Tier.choices, default=Tier.L1)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.PORTAL)
    tags = models.JSONField(default=list, blank=True)
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_tickets")
    resolution_code = models.CharField(max_length=20, choices=ResolutionCode.choices, blank=True)
    resolution_notes = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    is_major = models.BooleanField(default=False)
    first_response_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    escalation_level = models.PositiveSmallIntegerField(
        default=0, help_text="Steps of its escalation path taken so far; 0 = not escalated."
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    # Kept by the service-level clock (the sla app) for the queues: the most urgent running
    # target's due time and how it stands (on track, warning, breached, paused, met).
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_state = models.CharField(max_length=10, blank=True, editable=False)

    class Meta:
        ordering = ("-id",)
        indexes = [
            # The queues: a team's by status and priority (team first, so SQLite picks it even
            # without statistics), by assignee, and the triage queue (new and unassigned).
            models.Index(fields=["assigned_team", "status", "priority", "id"], name="ticket_team_queue_idx"),
            models.Index(fields=["assignee", "status", "id"], name="ticket_assignee_idx"),
            models.Index(fields=["requester", "-id"], name="ticket_requester_idx"),
            models.Index(fields=["organization", "-id"], name="ticket_org_idx"),
            models.Index(fields=["type", "status", "priority", "id"], name="ticket_type_status_idx"),
            # The escalation sweep: open tickets older than a threshold.
            models.Index(fields=["status", "created_at"], name="ticket_status_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:detail", args=[self.number])


class TimelineEvent(TimeStampedModel):
    """One entry of a ticket's timeline: a reply, a note, a change, a decision of a rule.
    Written once; corrections are new entries."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True, help_text="Markdown, for replies and notes.")
    body_html = models.TextField(blank=True, editable=False)
    data = models.JSONField(default=dict, blank=True, help_text="What changed, for changes.")
    minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Time spent, for worklogs.")

    class Meta:
        ordering = ("ticket", "created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="timeline_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.get_kind_display()}"
