"""Automatic assignment inside a team: round-robin, least-loaded or skills-based, only among
agents available right now. The strategy is each team's setting (TeamQueueSettings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Sum, Value, When
from django.utils import timezone

from opsdesk.accounts.choices import Availability
from opsdesk.accounts.models import AgentSkill, Team, User
from opsdesk.accounts.selectors import user_availability
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import check_version, ensure_allowed, record_create, record_update
from opsdesk.tickets.choices import OPEN_STATUSES, PRIORITY_WEIGHT, AssignmentStrategy, EventKind, Status
from opsdesk.tickets.models import TeamQueueSettings, Ticket
from opsdesk.tickets.services.lifecycle import record_event
from opsdesk.tickets.signals import announce_change


def weighted_load_expression() -> Sum:
    """An open ticket's weight by priority, summed: the load the least-loaded strategy compares."""
    return Sum(
        Case(
            *(When(priority=priority, then=Value(weight)) for priority, weight in PRIORITY_WEIGHT.items()),
            default=Value(1),
            output_field=IntegerField(),
        )
    )


def available_agents(*, team: Team, at: datetime) -> list[User]:
    """The team's active agents who can take work at ``at`` (on shift, present, not absent), by id."""
    members = (
        User.objects.filter(team_memberships__team=team, is_active=True)
        .prefetch_related("shifts")
        .order_by("pk")
    )
    return [
        member
        for member in members
        if member.is_agent and user_availability(user=member, at=at) == Availability.AVAILABLE
    ]


def agent_loads(*, agents: list[User]) -> dict[int, int]:
    """Each agent's open tickets weighted by priority (0 for an agent with none)."""
    rows = (
        Ticket.objects.filter(assignee__in=agents, status__in=OPEN_STATUSES)
        .values("assignee")
        .annotate(load=weighted_load_expression())
        .values_list("assignee", "load")
    )
    loads = {agent.pk: 0 for agent in agents}
    loads.update(dict(rows))
    return loads


def _round_robin(settings: TeamQueueSettings, agents: list[User]) -> User:
    # The agent after the previous one, in id order, wrapping round; agents who joined, left
    # or went off shift in between are simply skipped or included.
    after = settings.last_assignee_id or 0
    return next((agent for agent in agents if agent.pk > after), agents[0])


def _least_loaded(agents: list[User]) -> User:
    loads = agent_loads(agents=agents)
    return min(agents, key=lambda agent: (loads[agent.pk], agent.pk))


def _skilled(ticket: Ticket, agents: list[User]) -> User | None:
    category = ticket.category
    if category is None or category.required_skill_id is None:
        return _least_loaded(agents)
    levels = dict(
        AgentSkill.objects.filter(
            user__in=agents, skill_id=category.required_skill_id, level__gte=category.min_skill_level
        ).values_list("user_id", "level")
    )
    qualified = [agent for agent in agents if agent.pk in levels]
    if not qualified:
        return None
    loads = agent_loads(agents=qualified)
    # The least loaded of those who know the subject; the more expert breaks a tie.
    return min(qualified, key=lambda agent: (loads[agent.pk], -levels[agent.pk], agent.pk))


def assignee_pick(*, ticket: Ticket, team: Team, at: datetime | None = None) -> tuple[User | None, str]:
    """The agent the team's strategy gives ``ticket`` to, and the strategy's name.

    Returns ``(None, strategy)`` when the team assigns manually or nobody suitable is available.
    Round-robin moves the team's pointer, so call it inside the assigning transaction.
    """
    at = at or timezone.now()
    settings = TeamQueueSettings.objects.select_for_update().filter(team=team).first()
    strategy = settings.strategy if settings else AssignmentStrategy.MANUAL
    if strategy == AssignmentStrategy.MANUAL:
        return None, strategy
    agents = available_agents(team=team, at=at)
    if not agents:
        return None, strategy
    if strategy == AssignmentStrategy.ROUND_ROBIN:
        chosen = _round_robin(settings, agents)
        TeamQueueSettings.objects.filter(pk=settings.pk).update(last_assignee=chosen)
        return chosen, strategy
    if strategy == AssignmentStrategy.SKILLS:
        return _skilled(ticket, agents), strategy
    return _least_loaded(agents), strategy


def apply_assignment(*, ticket: Ticket, team: Team, assignee: User | None, at: datetime) -> dict[str, list]:
    """Put ``ticket`` in ``team`` (and with ``assignee``) without a check of who acts: for the
    engines (routing, escalation) that decide on the desk's behalf. Returns what changed."""
    before = {"team": ticket.assigned_team_id, "assignee": ticket.assignee_id}
    ticket.assigned_team, ticket.assignee, ticket.tier = team, assignee, team.tier
    ticket.assigned_at = at
    if ticket.status == Status.NEW:
        ticket.status = Status.ASSIGNED
    return {
        name: [old, new]
        for name, old, new in (
            ("team", before["team"], team.pk),
            ("assignee", before["assignee"], assignee.pk if assignee else None),
        )
        if old != new
    }


def ticket_auto_assign(
    *, actor: User, ticket: Ticket, team: Team | None = None, expected_version: int | None = None
) -> Ticket:
    """Give the ticket to the agent its team's strategy picks (agents). With ``team``, move it
    there first. Without an available agent, the ticket waits in the team's queue."""
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent:
        raise NotAllowed("Only the service desk assigns tickets.")
    team = team or ticket.assigned_team
    if team is None:
        raise ServiceError("Pick a team first: assignment happens inside a team.", field="team")
    if ticket.status not in OPEN_STATUSES:
        raise ServiceError(
            f"A {ticket.get_status_display().lower()} ticket cannot be assigned.", code="ticket_final"
        )
    now = timezone.now()
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=ticket, expected_version=expected_version)
        assignee, strategy = assignee_pick(ticket=ticket, team=team, at=now)
        changes = apply_assignment(ticket=ticket, team=team, assignee=assignee, at=now)
        ticket.save()
        record_event(
            ticket,
            EventKind.ASSIGNMENT,
            actor,
            body="" if assignee else "No agent of the team is available; the ticket waits in its queue.",
            data={"strategy": strategy, **changes},
        )
        announce_change(ticket)
    return ticket


def team_queue_settings_save(
    *, actor: User, team: Team, data: dict[str, Any], expected_version: int | None = None
) -> TeamQueueSettings:
    """Set a team's assignment strategy (managers, admins, the team's lead)."""
    strategy = data.get("strategy")
    if strategy not in AssignmentStrategy.values:
        raise ServiceError(
            f"The strategy is one of: {', '.join(AssignmentStrategy.values)}.", field="strategy"
        )
    current = TeamQueueSettings.objects.filter(team=team).first()
    if current is None:
        return record_create(model=TeamQueueSettings, actor=actor, data={"team": team, "strategy": strategy})
    return record_update(
        instance=current, actor=actor, data={"strategy": strategy}, expected_version=expected_version
    )
