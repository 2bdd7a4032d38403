"""Escalation: functional (the ticket moves to the next team or tier) and hierarchical (the
team lead, then management, hear of it), by hand with a reason or by rules.

The path a ticket escalates along comes from the escalation matrix (per service and priority);
beyond the matrix the default path applies: the service's escalation team of the next tier,
and the team lead at the first level, managers above it. Rule-driven escalations run at
ticket creation and in a periodic sweep; each rule fires at most once per ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Team, User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.tickets.choices import OPEN_STATUSES, EscalationKind, EscalationTrigger, EventKind, Priority
from opsdesk.tickets.conditions import RuleDataError, candidates_filter, clean_conditions, conditions_hold
from opsdesk.tickets.models import EscalationMatrixStep, EscalationRecord, EscalationRule, Ticket
from opsdesk.tickets.notifications import send_escalation_notice
from opsdesk.tickets.services.assignment import apply_assignment, assignee_pick
from opsdesk.tickets.services.lifecycle import record_event
from opsdesk.tickets.services.routing import routing_apply, rule_fields_only, rule_record_save
from opsdesk.tickets.signals import announce_change

# Tickets one rule escalates per sweep; the rest wait for the next run (a minute later).
SWEEP_BATCH = 200
TIER_ORDER = ("L1", "L2", "L3")
CANDIDATE_RELATIONS = ("requester", "organization", "category", "service", "assigned_team__lead")
RULE_FIELDS = frozenset(
    {"name", "description", "position", "is_active", "kind", "conditions", "raise_priority"}
)
STEP_FIELDS = frozenset({"service", "priority", "level", "team", "notify_team_lead", "notify_users"})


@dataclass
class PlannedStep:
    """What the next escalation of a ticket does: the team to move to, the people to tell."""

    level: int
    team: Team | None = None
    recipients: list[User] = field(default_factory=list)
    step: EscalationMatrixStep | None = None


class EscalationPlanner:
    """Finds each ticket's next step. Loads the matrix and the managers once, so a sweep over
    many tickets costs the same few queries."""

    def __init__(self) -> None:
        self._steps: list[EscalationMatrixStep] | None = None
        self._managers: list[User] | None = None

    def _matrix(self) -> list[EscalationMatrixStep]:
        if self._steps is None:
            self._steps = list(
                EscalationMatrixStep.objects.select_related("team__lead").prefetch_related("notify_users")
            )
        return self._steps

    def managers(self) -> list[User]:
        if self._managers is None:
            self._managers = list(User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk"))
        return self._managers

    def matrix_step(self, ticket: Ticket, level: int) -> EscalationMatrixStep | None:
        # The most specific path that exists decides: service and priority, service, priority, default.
        for service_id, priority in (
            (ticket.service_id, ticket.priority),
            (ticket.service_id, None),
            (None, ticket.priority),
            (None, None),
        ):
            path = [
                step for step in self._matrix() if step.service_id == service_id and step.priority == priority
            ]
            if path:
                return next((step for step in path if step.level == level), None)
        return None

    def plan(self, ticket: Ticket, *, kind: str, level: int) -> PlannedStep:
        step = self.matrix_step(ticket, level)
        planned = PlannedStep(level=level, step=step)
        if kind == EscalationKind.FUNCTIONAL:
            planned.team = step.team if step and step.team_id else self._next_tier_team(ticket)
        named = list(step.notify_users.all()) if step else []
        lead_team = planned.team or ticket.assigned_team
        if step and step.notify_team_lead and lead_team and lead_team.lead_id:
            named.insert(0, lead_team.lead)
        if not named and kind == EscalationKind.HIERARCHICAL:
            named = self._default_recipients(ticket, level)
        planned.recipients = list({person.pk: person for person in named if person.is_active}.values())
        return planned

    def _next_tier_team(self, ticket: Ticket) -> Team | None:
        if ticket.service_id is None:
            return None
        rank = TIER_ORDER.index(ticket.tier) if ticket.tier in TIER_ORDER else 0
        higher = [
            team
            for team in ticket.service.escalation_teams.all()
            if team.tier in TIER_ORDER and TIER_ORDER.index(team.tier) > rank
        ]
        return min(higher, key=lambda team: (TIER_ORDER.index(team.tier), team.name), default=None)

    def _default_recipients(self, ticket: Ticket, level: int) -> list[User]:
        team = ticket.assigned_team
        if level == 1 and team is not None and team.lead_id:
            return [team.lead]
        return self.managers()


def _escalate(
    *,
    ticket: Ticket,
    planner: EscalationPlanner,
    kind: str,
    trigger: str,
    actor: User | None,
    now: datetime,
    rule: EscalationRule | None = None,
    reason: str = "",
    to_team: Team | None = None,
) -> EscalationRecord:
    """Take the ticket one step up its path. Runs inside the caller's transaction."""
    level = ticket.escalation_level + 1
    planned = planner.plan(ticket, kind=kind, level=level)
    target = to_team or planned.team
    from_team = ticket.assigned_team
    # The record goes first: for a rule it claims the (ticket, rule) pair before anything changes.
    record = EscalationRecord.objects.create(
        ticket=ticket,
        level=level,
        kind=kind,
        trigger=trigger,
        rule=rule,
        step=planned.step,
        from_team=from_team,
        to_team=target if kind == EscalationKind.FUNCTIONAL else from_team,
        actor=actor if actor and actor.pk else None,
        reason=reason,
    )
    changes: dict[str, list] = {}
    if kind == EscalationKind.FUNCTIONAL and target is not None and target.pk != ticket.assigned_team_id:
        assignee, _ = assignee_pick(ticket=ticket, team=target, at=now)
        changes = apply_assignment(ticket=ticket, team=target, assignee=assignee, at=now)
    if rule is not None and rule.raise_priority and ticket.priority > Priority.CRITICAL:
        changes["priority"] = [ticket.priority, ticket.priority - 1]
        ticket.priority -= 1
    ticket.escalation_level, ticket.escalated_at = level, now
    ticket.save()
    if planned.recipients:
        record.notified.set(planned.recipients)
    record_event(
        ticket,
        EventKind.ESCALATION,
        actor,
        body=reason or (f"Rule “{rule.name}” escalated the ticket." if rule else ""),
        data={
            "level": level,
            "kind": kind,
            "trigger": trigger,
            "rule": {"id": rule.pk, "name": rule.name} if rule else None,
            "record": record.pk,
            "changes": changes,
            "notified": [person.pk for person in planned.recipients],
        },
    )
    if planned.recipients:
        send_escalation_notice.enqueue(record_id=record.pk)
    announce_change(ticket)
    return record


def ticket_escalate(
    *,
    actor: User,
    ticket: Ticket,
    reason: str,
    kind: str = EscalationKind.FUNCTIONAL,
    team: Team | None = None,
    expected_version: int | None = None,
) -> EscalationRecord:
    """Escalate a ticket by hand (agents), with a reason.

    Functional moves it to ``team`` or, without one, to the next team of its path;
    hierarchical tells the next people of its path (the team lead, then managers).
    """
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent:
        raise NotAllowed("Only the service desk escalates tickets.")
    if kind not in EscalationKind.values:
        raise ServiceError("The kind is functional or hierarchical.", field="kind")
    if not reason.strip():
        raise ServiceError("Say why the ticket needs escalating.", field="reason")
    if ticket.status not in OPEN_STATUSES:
        raise ServiceError("Only open tickets are escalated.", code="ticket_final", field="status")
    if team is not None and kind != EscalationKind.FUNCTIONAL:
        raise ServiceError("A hierarchical escalation notifies people; it keeps the team.", field="team")
    now = timezone.now()
    planner = EscalationPlanner()
    planned = planner.plan(ticket, kind=kind, level=ticket.escalation_level + 1)
    if kind == EscalationKind.FUNCTIONAL and team is None and planned.team is None:
        raise ServiceError("This ticket's escalation path names no next team; pick one.", field="team")
    if kind == EscalationKind.HIERARCHICAL and not planned.recipients:
        raise ServiceError("Nobody is on this ticket's escalation path to notify.", field="kind")
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=ticket, expected_version=expected_version)
        return _escalate(
            ticket=ticket,
            planner=planner,
            kind=kind,
            trigger=EscalationTrigger.MANUAL,
            actor=actor,
            now=now,
            reason=reason.strip(),
            to_team=team,
        )


def _fire(
    ticket: Ticket, rule: EscalationRule, planner: EscalationPlanner, now: datetime
) -> EscalationRecord | None:
    """Escalate ``ticket`` by ``rule`` unless the rule already fired for it (another sweep won)."""
    try:
        with transaction.atomic():
            return _escalate(
                ticket=ticket,
                planner=planner,
                kind=rule.kind,
                trigger=EscalationTrigger.RULE,
                actor=None,
                now=now,
                rule=rule,
            )
    except IntegrityError:
        ticket.refresh_from_db()
        return None


def escalation_rules_apply(*, ticket: Ticket, now: datetime | None = None) -> EscalationRecord | None:
    """Fire the first active rule that holds for ``ticket`` and has not fired for it yet.

    Called by ``ticket_create`` inside its transaction, so a P1 or a VIP's ticket escalates
    the moment it exists; the sweep does the same for rules that hold later.
    """
    now = now or timezone.now()
    # A rule that fired left the ticket escalated: a ticket at level 0 has no record to read.
    fired = (
        set(EscalationRecord.objects.filter(ticket=ticket, rule__isnull=False).values_list("rule", flat=True))
        if ticket.escalation_level
        else set()
    )
    planner = EscalationPlanner()
    for rule in EscalationRule.objects.filter(is_active=True).order_by("position", "id"):
        if rule.pk not in fired and conditions_hold(rule.conditions, ticket, now):
            record = _fire(ticket, rule, planner, now)
            if record is not None:
                return record
    return None


def new_ticket_rules_apply(*, ticket: Ticket) -> None:
    """What the rules decide for a ticket the moment it is created: its routing, then the
    escalation rules that hold at once (a P1, a VIP's ticket). Inside the creating transaction;
    the decisions are the desk's, so the timeline names the rule, not the person who wrote."""
    now = timezone.now()
    routing_apply(ticket=ticket, actor=None, now=now)
    escalation_rules_apply(ticket=ticket, now=now)


def escalation_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Escalate every open ticket an active rule now holds for; returns how many escalated.

    Each rule narrows its candidates in the database (its conditions' filters, and no record of
    it firing for the ticket yet), so the cost follows the tickets due, not the tickets open.
    A ticket escalates at most once per sweep; the next rule's turn comes a sweep later.
    """
    now = now or timezone.now()
    planner = EscalationPlanner()
    escalated: set[int] = set()
    for rule in EscalationRule.objects.filter(is_active=True).order_by("position", "id"):
        already = EscalationRecord.objects.filter(ticket=OuterRef("pk"), rule=rule)
        candidates = (
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .filter(candidates_filter(rule.conditions, now))
            .filter(~Exists(already))
            .select_related(*CANDIDATE_RELATIONS)
            .prefetch_related("service__escalation_teams")
            .order_by("created_at", "id")[:batch]
        )
        for ticket in candidates:
            if ticket.pk in escalated or not conditions_hold(rule.conditions, ticket, now):
                continue
            if _fire(ticket, rule, planner, now):
                escalated.add(ticket.pk)
    return len(escalated)


def escalation_rule_save(
    *,
    actor: User,
    data: dict[str, Any],
    rule: EscalationRule | None = None,
    expected_version: int | None = None,
) -> EscalationRule:
    """Create an escalation rule, or change ``rule`` (managers, admins). Conditions are checked
    against the registry: an unknown name or a bad parameter names its place."""
    data = rule_fields_only(data, RULE_FIELDS)
    if "kind" in data and data["kind"] not in EscalationKind.values:
        raise ServiceError("The kind is functional or hierarchical.", field="kind")
    if "conditions" in data or rule is None:
        if not data.get("conditions"):
            raise ServiceError("An escalation rule needs at least one condition.", field="conditions")
        try:
            data["conditions"] = clean_conditions(data["conditions"])
        except RuleDataError as error:
            raise ServiceError(error.message, field=error.path) from error
    return rule_record_save(
        model=EscalationRule, actor=actor, instance=rule, data=data, expected_version=expected_version
    )


def escalation_step_save(
    *,
    actor: User,
    data: dict[str, Any],
    step: EscalationMatrixStep | None = None,
    expected_version: int | None = None,
) -> EscalationMatrixStep:
    """Create or change one step of the escalation matrix (managers, admins). A step moves the
    ticket to a team, notifies people, or both; the people notified are support staff."""
    data = rule_fields_only(data, STEP_FIELDS)
    people = data.pop("notify_users", None)
    if people is not None and any(not person.is_agent or not person.is_active for person in people):
        raise ServiceError("Only active support staff are notified of escalations.", field="notify_users")
    merged = {
        "team": data.get("team", step.team if step else None),
        "notify_team_lead": data.get("notify_team_lead", step.notify_team_lead if step else False),
        "people": people if people is not None else (list(step.notify_users.all()) if step else []),
    }
    if not (merged["team"] or merged["notify_team_lead"] or merged["people"]):
        raise ServiceError("A step moves the ticket to a team, notifies people, or both.", field="team")
    level = data.get("level", step.level if step else None)
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        raise ServiceError("The level is a whole number from 1.", field="level")
    m2m = {"notify_users": people} if people is not None else None
    return rule_record_save(
        model=EscalationMatrixStep,
        actor=actor,
        instance=step,
        data=data,
        expected_version=expected_version,
        m2m=m2m,
    )
