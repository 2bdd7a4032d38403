"""The desk's automation, kept as data an admin edits: routing rules, each team's assignment
strategy, escalation rules, the escalation matrix, and the record of every escalation."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from opsdesk.accounts.models import Team, TeamMembership, User
from opsdesk.core.models import AuditedModel, TimeStampedModel
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import AssignmentStrategy, EscalationKind, EscalationTrigger, Priority
from opsdesk.tickets.conditions import RuleDataError, clean_conditions
from opsdesk.tickets.models.desk import Category, Ticket

ROUTING_ACTIONS = ("team", "assignee", "priority", "category", "tags")
MAX_ROUTING_TAGS = 20
MAX_ROUTING_TAG_LENGTH = 40


class RoutingRule(AuditedModel):
    """When a ticket arrives, the first active rules (by position) whose conditions all hold set
    its team, priority, category, tags or assignee. ``actions`` is an object such as
    ``{"team": 3, "priority": 2, "category": 7, "tags": ["vpn"], "assignee": 12}``; with a team
    and no assignee, the team's assignment strategy picks one."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower positions are tried first.")
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=list, blank=True, help_text="All must hold; none means always.")
    actions = models.JSONField(default=dict)
    stop_processing = models.BooleanField(
        default=True, help_text="When this rule matches, later rules are not tried."
    )

    class Meta:
        ordering = ("position", "id")
        indexes = [models.Index(fields=["is_active", "position", "id"], name="routing_rule_order_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _as_validation_error(lambda: setattr(self, "conditions", clean_conditions(self.conditions)))
        _as_validation_error(lambda: setattr(self, "actions", clean_routing_actions(self.actions)))


class TeamQueueSettings(AuditedModel):
    """How a team's new tickets find an agent. Only agents available now (on shift, present,
    not absent) are picked; manual assignment is always possible."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="queue_settings")
    strategy = models.CharField(
        max_length=20, choices=AssignmentStrategy.choices, default=AssignmentStrategy.MANUAL
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Round-robin pointer: the agent who got the previous ticket.",
    )

    class Meta:
        ordering = ("team__name",)
        verbose_name_plural = "team queue settings"

    def __str__(self) -> str:
        return f"{self.team.name}: {self.get_strategy_display()}"


class EscalationRule(AuditedModel):
    """Escalate an open ticket one step along its path when all conditions hold: no first
    response in X minutes, unresolved after Y, reopened N times, a VIP requester, a P1… A rule
    fires at most once per ticket; the periodic sweep and ticket creation both evaluate it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    kind = models.CharField(max_length=12, choices=EscalationKind.choices, default=EscalationKind.FUNCTIONAL)
    conditions = models.JSONField(default=list)
    raise_priority = models.BooleanField(
        default=False, help_text="Also raise the ticket's priority one level (P3 → P2)."
    )

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.conditions:
            raise ValidationError({"conditions": "An escalation rule needs at least one condition."})
        _as_validation_error(lambda: setattr(self, "conditions", clean_conditions(self.conditions)))


class EscalationMatrixStep(AuditedModel):
    """One step of an escalation path, for a service and a priority (either blank = any).

    Step ``level`` 1 is the first escalation, 2 the next… A step moves the ticket to ``team``
    (functional) and/or notifies the team lead and named people (hierarchical). The most
    specific path wins: service and priority, then service, then priority, then the default.
    """

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="escalation_steps"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    level = models.PositiveSmallIntegerField()
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notify_team_lead = models.BooleanField(default=False, help_text="The lead of the ticket's team.")
    notify_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ("service__name", "priority", "level")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "priority", "level"],
                name="one_matrix_step_per_level",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=models.Q(level__gte=1), name="matrix_step_level_from_one"),
        ]

    def __str__(self) -> str:
        service = self.service.name if self.service_id else "any service"
        priority = f"P{self.priority}" if self.priority else "any priority"
        return f"{service}, {priority}: step {self.level}"


class EscalationRecord(TimeStampedModel):
    """One escalation of one ticket, manual or by a rule: what fired, where the ticket went and
    whom it told. The unique (ticket, rule) pair makes the sweep idempotent."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=EscalationKind.choices)
    trigger = models.CharField(max_length=8, choices=EscalationTrigger.choices)
    rule = models.ForeignKey(
        EscalationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    step = models.ForeignKey(
        EscalationMatrixStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    from_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notified = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "rule"],
                condition=models.Q(rule__isnull=False),
                name="rule_fires_once_per_ticket",
            )
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="escalation_recent_idx"),
            models.Index(fields=["ticket", "-created_at"], name="escalation_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number}: escalation {self.level} ({self.get_kind_display()})"


def _as_validation_error(step) -> None:
    try:
        step()
    except RuleDataError as error:
        top = error.path.split(".")[0].split("[")[0]
        raise ValidationError({top: f"{error.path}: {error.message}"}) from error


def clean_routing_actions(raw: object) -> dict:
    """Validate a routing rule's actions; return them normalised or raise RuleDataError."""
    if not isinstance(raw, dict) or not raw:
        raise RuleDataError("actions", f"an object with at least one of: {', '.join(ROUTING_ACTIONS)}")
    unknown = sorted(set(raw) - set(ROUTING_ACTIONS))
    if unknown:
        raise RuleDataError(f"actions.{unknown[0]}", f"unknown action; known: {', '.join(ROUTING_ACTIONS)}")
    actions = {}
    if "team" in raw:
        actions["team"] = _existing_id(raw["team"], Team.objects.all(), "actions.team", "team")
    if "assignee" in raw:
        if "team" not in actions:
            raise RuleDataError("actions.assignee", "set the team too: an assignee works in a team")
        actions["assignee"] = _existing_id(
            raw["assignee"], User.objects.filter(is_active=True), "actions.assignee", "active user"
        )
        if not TeamMembership.objects.filter(team_id=actions["team"], user_id=actions["assignee"]).exists():
            raise RuleDataError("actions.assignee", "this person is not a member of the rule's team")
    if "priority" in raw:
        if raw["priority"] not in Priority.values or isinstance(raw["priority"], bool):
            raise RuleDataError("actions.priority", "a priority from 1 (critical) to 5 (planning)")
        actions["priority"] = raw["priority"]
    if "category" in raw:
        actions["category"] = _existing_id(
            raw["category"], Category.objects.filter(is_active=True), "actions.category", "active category"
        )
    if "tags" in raw:
        tags = raw["tags"]
        if not isinstance(tags, list) or not tags or any(not isinstance(tag, str) for tag in tags):
            raise RuleDataError("actions.tags", "a non-empty list of words")
        cleaned = sorted({tag.strip().lower() for tag in tags if tag.strip()})
        if (
            not cleaned
            or len(cleaned) > MAX_ROUTING_TAGS
            or any(len(tag) > MAX_ROUTING_TAG_LENGTH for tag in cleaned)
        ):
            raise RuleDataError(
                "actions.tags", f"1 to {MAX_ROUTING_TAGS} tags of at most {MAX_ROUTING_TAG_LENGTH} characters"
            )
        actions["tags"] = cleaned
    return actions


def _existing_id(value: object, queryset: models.QuerySet, path: str, noun: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleDataError(path, f"the id of a {noun}")
    if not queryset.filter(pk=value).exists():
        raise RuleDataError(path, f"no {noun} with id {value}")
    return value
