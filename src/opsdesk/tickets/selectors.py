"""Reads of the service desk, restricted to what the reader may see."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone

from opsdesk.accounts.models import Team, TeamMembership, User
from opsdesk.tickets.choices import (
    AGE_BUCKETS,
    LOW_RATING,
    OPEN_STATUSES,
    PRIORITY_WEIGHT,
    EscalationKind,
    EscalationTrigger,
    Priority,
    Status,
)
from opsdesk.tickets.models import EscalationRecord, Survey, Ticket, TimelineEvent

LIST_RELATIONS = ("requester", "organization", "service", "category", "assigned_team", "assignee")


def ticket_list_for(*, user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.restrict(user, "view").select_related(*LIST_RELATIONS)


def ticket_get_for(*, user: Any, number: str, action: str = "view") -> Ticket:
    """The ticket if ``user`` may ``action`` it; Ticket.DoesNotExist otherwise (forbidden looks missing)."""
    return ticket_list_for(user=user).restrict(user, action).get(number=number)


def triage_queue_for(*, user: Any) -> QuerySet[Ticket]:
    """New, unassigned tickets: the most urgent first, then the oldest."""
    return (
        ticket_list_for(user=user)
        .filter(status=Status.NEW, assigned_team__isnull=True)
        .order_by("priority", "id")
    )


def timeline_for(*, user: Any, ticket: Ticket) -> QuerySet[TimelineEvent]:
    """The ticket's timeline as the user may see it (requesters never see internal entries)."""
    return TimelineEvent.objects.restrict(user, "view").filter(ticket=ticket).select_related("author")


# --- workload ------------------------------------------------------------------------


@dataclass
class Load:
    """Open tickets counted by priority and by age, and their load weighted by priority."""

    open: int = 0
    weighted: int = 0
    by_priority: dict[int, int] = field(default_factory=lambda: dict.fromkeys(Priority.values, 0))
    by_age: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _ in AGE_BUCKETS})

    def add(self, *, priority: int, age: str, count: int) -> None:
        self.open += count
        self.weighted += PRIORITY_WEIGHT.get(priority, 1) * count
        self.by_priority[priority] = self.by_priority.get(priority, 0) + count
        self.by_age[age] += count


@dataclass
class AgentLoad:
    agent: User
    load: Load = field(default_factory=Load)


@dataclass
class TeamLoad:
    """One team's open work: per agent, in the queue (no assignee), in total, and how unevenly
    it is spread: the busiest agent's weighted load over the mean, and the coefficient of
    variation (standard deviation over mean; 0 is perfectly even). None without agents or load."""

    team: Team
    agents: list[AgentLoad]
    queue: Load
    total: Load
    max_over_mean: float | None
    coefficient_of_variation: float | None


def _age_bucket(now: datetime) -> Case:
    whens = [
        When(created_at__gt=now - timedelta(hours=hours), then=Value(name))
        for name, hours in AGE_BUCKETS
        if hours is not None
    ]
    return Case(*whens, default=Value(AGE_BUCKETS[-1][0]), output_field=CharField())


def _imbalance(weights: list[int]) -> tuple[float | None, float | None]:
    if not weights or not sum(weights):
        return None, None
    mean = statistics.fmean(weights)
    return round(max(weights) / mean, 2), round(statistics.pstdev(weights) / mean, 2)


def workload_for(
    *, user: Any, teams: list[Team] | None = None, now: datetime | None = None
) -> list[TeamLoad]:
    """Open tickets per team and agent, by priority and age, with each team's imbalance.

    Three queries whatever the number of tickets: the teams, their members, and one grouped
    count of the open tickets the reader may see.
    """
    now = now or timezone.now()
    team_list = list(
        Team.objects.restrict(user, "view")
        .filter(**({"pk__in": [team.pk for team in teams]} if teams is not None else {}))
        .order_by("tier", "name")
    )
    by_team = {team.pk: team for team in team_list}
    members: dict[int, dict[int, AgentLoad]] = {team.pk: {} for team in team_list}
    for membership in (
        TeamMembership.objects.filter(team__in=team_list, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ):
        members[membership.team_id][membership.user_id] = AgentLoad(agent=membership.user)
    queues = {pk: Load() for pk in by_team}
    rows = (
        Ticket.objects.restrict(user, "view")
        .filter(status__in=OPEN_STATUSES, assigned_team__in=team_list)
        .annotate(age=_age_bucket(now))
        .values_list("assigned_team", "assignee", "priority", "age")
        .annotate(count=Count("id"))
        .order_by()
    )
    strays: dict[int, list[tuple[int, int, str, int]]] = {}
    for team_id, assignee_id, priority, age, count in rows:
        if assignee_id is None:
            queues[team_id].add(priority=priority, age=age, count=count)
        elif assignee_id in members[team_id]:
            members[team_id][assignee_id].load.add(priority=priority, age=age, count=count)
        else:
            # Assigned to someone who has left the team since: still their work, shown apart.
            strays.setdefault(assignee_id, []).append((team_id, priority, age, count))
    for person in User.objects.filter(pk__in=strays):
        for team_id, priority, age, count in strays[person.pk]:
            members[team_id].setdefault(person.pk, AgentLoad(agent=person)).load.add(
                priority=priority, age=age, count=count
            )
    result = []
    for team in team_list:
        agents = list(members[team.pk].values())
        total = Load()
        for load in [queues[team.pk], *(agent.load for agent in agents)]:
            for priority, count in load.by_priority.items():
                total.by_priority[priority] = total.by_priority.get(priority, 0) + count
            for age, count in load.by_age.items():
                total.by_age[age] += count
            total.open += load.open
            total.weighted += load.weighted
        ratio, variation = _imbalance([agent.load.weighted for agent in agents])
        result.append(TeamLoad(team, agents, queues[team.pk], total, ratio, variation))
    return result


# --- escalations ---------------------------------------------------------------------


def escalation_list_for(
    *,
    user: Any,
    kind: str | None = None,
    trigger: str | None = None,
    team: Team | None = None,
    open_only: bool = False,
) -> QuerySet[EscalationRecord]:
    """Escalations, newest first: what fired, for which ticket, where it went, whom it told."""
    records = EscalationRecord.objects.restrict(user, "view").select_related(
        "ticket", "rule", "step", "from_team", "to_team", "actor"
    )
    if kind:
        records = records.filter(kind=kind)
    if trigger:
        records = records.filter(trigger=trigger)
    if team is not None:
        records = records.filter(to_team=team)
    if open_only:
        records = records.filter(ticket__status__in=OPEN_STATUSES)
    return records.order_by("-created_at", "-id")


def escalated_tickets_for(*, user: Any) -> QuerySet[Ticket]:
    """Open tickets that carry an escalation badge, the highest level first, then the latest."""
    return (
        ticket_list_for(user=user)
        .filter(status__in=OPEN_STATUSES, escalation_level__gt=0)
        .order_by("-escalation_level", "-escalated_at", "-id")
    )


def escalation_figures(*, user: Any, since: datetime, until: datetime | None = None) -> dict[str, Any]:
    """Escalations counted for a period: in all, by kind, by trigger, by rule and by team it
    went to; the share of the period's new tickets that escalated; open escalated tickets now."""
    until = until or timezone.now()
    records = EscalationRecord.objects.restrict(user, "view").filter(
        created_at__gte=since, created_at__lt=until
    )
    by_kind = dict(records.values_list("kind").annotate(count=Count("id")).order_by())
    by_trigger = dict(records.values_list("trigger").annotate(count=Count("id")).order_by())
    by_rule = list(
        records.filter(rule__isnull=False)
        .values_list("rule__name")
        .annotate(count=Count("id"))
        .order_by("-count", "rule__name")
    )
    by_team = list(
        records.filter(kind=EscalationKind.FUNCTIONAL, to_team__isnull=False)
        .values_list("to_team__name")
        .annotate(count=Count("id"))
        .order_by("-count", "to_team__name")
    )
    created = Ticket.objects.restrict(user, "view").filter(created_at__gte=since, created_at__lt=until)
    new_tickets = created.count()
    escalated_new = created.filter(escalation_level__gt=0).count()
    return {
        "total": sum(by_kind.values()),
        "by_kind": {kind: by_kind.get(kind, 0) for kind in EscalationKind.values},
        "by_trigger": {trigger: by_trigger.get(trigger, 0) for trigger in EscalationTrigger.values},
        "by_rule": by_rule,
        "by_team": by_team,
        "tickets_created": new_tickets,
        "escalation_rate": round(escalated_new / new_tickets, 3) if new_tickets else None,
        "open_escalated": Ticket.objects.restrict(user, "view")
        .filter(status__in=OPEN_STATUSES, escalation_level__gt=0)
        .count(),
    }


# --- satisfaction --------------------------------------------------------------------

# A rating this low or lower is a low rating (services.surveys flags such a ticket for review).


@dataclass
class TeamSatisfaction:
    """One team's answered surveys over a period: how many, the mean rating, the share of low
    ratings (2 or less) and how many still need a review. ``team`` is None for unassigned tickets."""

    team: Team | None
    count: int
    average: float | None
    low_share: float | None
    needs_review: int


def satisfaction_by_team(
    *, user: Any, since: datetime, until: datetime | None = None
) -> list[TeamSatisfaction]:
    """Survey answers of the period, per team the ticket was assigned to, among the tickets the
    reader may see. Two queries: the grouped figures and the teams they name."""
    until = until or timezone.now()
    rows = list(
        Survey.objects.filter(
            ticket__in=Ticket.objects.restrict(user, "view"),
            rating__isnull=False,
            answered_at__gte=since,
            answered_at__lt=until,
        )
        .values_list("ticket__assigned_team")
        .annotate(
            count=Count("id"),
            average=Avg("rating"),
            low=Count("id", filter=Q(rating__lte=LOW_RATING)),
            review=Count("id", filter=Q(needs_review=True)),
        )
        .order_by()
    )
    teams = Team.objects.in_bulk([team_id for team_id, *_ in rows if team_id is not None])
    result = [
        TeamSatisfaction(
            team=teams.get(team_id),
            count=count,
            average=round(average, 2) if average is not None else None,
            low_share=round(low / count, 3) if count else None,
            needs_review=review,
        )
        for team_id, count, average, low, review in rows
    ]
    return sorted(result, key=lambda item: (item.team is None, item.team.name if item.team else ""))


def surveys_needing_review_for(*, user: Any) -> QuerySet[Survey]:
    """Low ratings nobody has reviewed yet, on tickets the reader may see, the latest first."""
    return (
        Survey.objects.filter(ticket__in=Ticket.objects.restrict(user, "view"), needs_review=True)
        .select_related("ticket", "ticket__assigned_team", "ticket__requester")
        .order_by("-answered_at", "-id")
    )
