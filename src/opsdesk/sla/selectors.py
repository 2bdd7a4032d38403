"""Reads for service levels: which policy covers a ticket and why, a ticket's history as the
clock reads it, and the timers people look at."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsdesk.accounts.choices import STAFF_ROLES
from opsdesk.accounts.models import User
from opsdesk.sla.choices import Metric, PolicyKind, TimerState
from opsdesk.sla.clock import Fact
from opsdesk.sla.models import SlaPolicy, SlaTimer
from opsdesk.tickets.choices import EventKind, Priority
from opsdesk.tickets.models import Ticket, TimelineEvent

CRITERIA = ("ticket_types", "priorities", "services", "organizations", "categories")
CLOCK_EVENTS = (
    EventKind.CREATED,
    EventKind.STATUS,
    EventKind.ASSIGNMENT,
    EventKind.ROUTING,
    EventKind.ESCALATION,
    EventKind.PUBLIC_REPLY,
)


@dataclass
class LoadedPolicy:
    """A policy with its criteria and targets in memory, for matching many tickets at once."""

    policy: SlaPolicy
    services: frozenset[int]
    organizations: frozenset[int]
    categories: frozenset[int]
    targets: dict[tuple[str, int | None], int] = field(default_factory=dict)
    provider_services: frozenset[int] = frozenset()

    @property
    def specificity(self) -> int:
        policy = self.policy
        return sum(
            bool(value)
            for value in (
                policy.ticket_types,
                policy.priorities,
                self.services,
                self.organizations,
                self.categories,
            )
        )

    def mismatch(self, ticket: Ticket) -> str | None:
        """Why the policy does not cover ``ticket`` (None when it does)."""
        policy = self.policy
        if policy.ticket_types and ticket.type not in policy.ticket_types:
            return "type"
        if policy.priorities and ticket.priority not in policy.priorities:
            return "priority"
        if self.services and ticket.service_id not in self.services:
            return "service"
        if self.organizations and ticket.organization_id not in self.organizations:
            return "organisation"
        if self.categories:
            category = ticket.category
            ids = {category.pk, category.parent_id} if category is not None else set()
            if not ids & self.categories:
                return "category"
        return None

    def explain(self, ticket: Ticket) -> str:
        matched = []
        policy = self.policy
        if policy.ticket_types:
            matched.append(f"type {ticket.get_type_display().lower()}")
        if policy.priorities:
            matched.append(f"priority P{ticket.priority}")
        if self.services:
            matched.append(f"service {ticket.service.name}" if ticket.service_id else "service")
        if self.organizations:
            matched.append(
                f"organisation {ticket.organization.name}" if ticket.organization_id else "organisation"
            )
        if self.categories:
            matched.append(f"category {ticket.category}")
        if policy.kind == PolicyKind.OLA:
            owner = f"While the ticket is with {policy.team.name}"
        elif policy.kind == PolicyKind.UC:
            owner = f"While the ticket waits on {policy.provider.name}, who delivers its service"
        else:
            owner = ""
        if owner:
            return f"{owner}; matches {', '.join(matched)}" if matched else owner
        return f"Matches {', '.join(matched)}" if matched else "Covers every ticket (no criteria)"

    def target_minutes(self, metric: str, priority: int) -> int | None:
        """The target for ``metric`` at ``priority``; a per-priority target beats the general one."""
        found = self.targets.get((metric, priority))
        return found if found is not None else self.targets.get((metric, None))


@dataclass
class Match:
    loaded: LoadedPolicy
    reason: str


class PolicyBook:
    """The active policies, loaded once (five queries) and matched in memory."""

    def __init__(self, policies: list[LoadedPolicy]) -> None:
        self.policies = policies
        self.by_kind: dict[str, list[LoadedPolicy]] = {}
        for loaded in sorted(
            policies, key=lambda item: (-item.specificity, item.policy.position, item.policy.pk)
        ):
            self.by_kind.setdefault(loaded.policy.kind, []).append(loaded)

    @classmethod
    def load(cls, queryset=None) -> PolicyBook:
        queryset = queryset if queryset is not None else SlaPolicy.objects.filter(is_active=True)
        policies = list(
            queryset.select_related("calendar", "team", "provider").prefetch_related(
                "targets", "services", "organizations", "categories", "provider__services"
            )
        )
        loaded = []
        for policy in policies:
            loaded.append(
                LoadedPolicy(
                    policy=policy,
                    services=frozenset(item.pk for item in policy.services.all()),
                    organizations=frozenset(item.pk for item in policy.organizations.all()),
                    categories=frozenset(item.pk for item in policy.categories.all()),
                    targets={
                        (target.metric, target.priority): target.minutes for target in policy.targets.all()
                    },
                    provider_services=frozenset(item.pk for item in policy.provider.services.all())
                    if policy.provider_id
                    else frozenset(),
                )
            )
        return cls(loaded)

    def best(self, ticket: Ticket, kind: str, candidates: list[LoadedPolicy] | None = None) -> Match | None:
        """The most specific active policy of ``kind`` covering ``ticket``, and why."""
        ordered = candidates if candidates is not None else self.by_kind.get(kind, [])
        matching = [loaded for loaded in ordered if loaded.mismatch(ticket) is None]
        if not matching:
            return None
        chosen = matching[0]
        reason = chosen.explain(ticket)
        if len(matching) > 1:
            others = ", ".join(item.policy.name for item in matching[1:4])
            reason += (
                f"; more specific than {others}"
                if chosen.specificity > matching[1].specificity
                else (f"; ahead of {others} by position")
            )
        return Match(chosen, reason[:300])

    def matches(self, ticket: Ticket, team_ids: set[int]) -> list[Match]:
        """Every policy that times ``ticket``: its SLA, the OLA of each team it was with, the UC
        of each provider of its service."""
        found = []
        sla = self.best(ticket, PolicyKind.SLA)
        if sla is not None:
            found.append(sla)
        groups: dict[tuple[str, int], list[LoadedPolicy]] = {}
        for loaded in self.by_kind.get(PolicyKind.OLA, []):
            if loaded.policy.team_id in team_ids:
                groups.setdefault((PolicyKind.OLA, loaded.policy.team_id), []).append(loaded)
        for loaded in self.by_kind.get(PolicyKind.UC, []):
            if ticket.service_id in loaded.provider_services:
                groups.setdefault((PolicyKind.UC, loaded.policy.provider_id), []).append(loaded)
        for (kind, _owner), candidates in groups.items():
            match = self.best(ticket, kind, candidates)
            if match is not None:
                found.append(match)
        return found

    def why_not(self, ticket: Ticket) -> list[tuple[str, str]]:
        """For a ticket with no SLA: each active SLA policy and the criterion it failed on."""
        return [
            (loaded.policy.name, loaded.mismatch(ticket) or "")
            for loaded in self.by_kind.get(PolicyKind.SLA, [])
            if loaded.mismatch(ticket)
        ]


def ticket_facts(ticket: Ticket) -> list[Fact]:
    """The ticket's history as the clock reads it, oldest first: status changes, team changes
    and public replies (by the desk or by the requester)."""
    rows = (
        TimelineEvent.objects.filter(ticket=ticket, kind__in=CLOCK_EVENTS)
        .order_by("created_at", "id")
        .values_list("created_at", "kind", "data", "author_id", "author__role", "author__is_superuser")
    )
    facts: list[Fact] = []
    for at, kind, data, author_id, role, superuser in rows:
        data = data or {}
        if kind == EventKind.STATUS and isinstance(data.get("status"), list):
            facts.append(Fact(at, "status", (data["status"][1], data.get("pending_reason", ""))))
        elif kind == EventKind.PUBLIC_REPLY:
            is_desk = author_id is not None and (role in STAFF_ROLES or superuser)
            if is_desk and author_id != ticket.requester_id:
                facts.append(Fact(at, "agent_reply"))
            elif author_id is not None:
                facts.append(Fact(at, "requester_reply"))
        elif kind in (EventKind.ASSIGNMENT, EventKind.ROUTING, EventKind.ESCALATION):
            team = data.get("team") or (data.get("changes") or {}).get("team")
            if isinstance(team, list) and len(team) == 2 and team[0] != team[1]:
                facts.append(Fact(at, "team", team[1]))
    return facts


def timers_for_ticket(ticket: Ticket) -> list[SlaTimer]:
    return list(
        SlaTimer.objects.filter(ticket=ticket)
        .select_related("policy", "calendar", "team")
        .order_by("kind", "policy__name", "metric", "cycle")
    )


def current_timers(timers: list[SlaTimer]) -> list[SlaTimer]:
    """The latest cycle of each (policy, metric): what the ticket's SLA panel leads with."""
    latest: dict[tuple[int, str], SlaTimer] = {}
    for timer in timers:
        key = (timer.policy_id, timer.metric)
        if key not in latest or timer.cycle > latest[key].cycle:
            latest[key] = timer
    order = {Metric.FIRST_RESPONSE: 0, Metric.NEXT_RESPONSE: 1, Metric.RESOLUTION: 2}
    return sorted(
        latest.values(), key=lambda timer: (timer.kind, order.get(timer.metric, 9), timer.policy_id)
    )


def open_timer_count() -> int:
    return SlaTimer.objects.filter(state__in=(TimerState.RUNNING, TimerState.PAUSED)).count()


def visible_timers(user: User):
    return SlaTimer.objects.restrict(user, "view")


PRIORITY_LABELS = dict(Priority.choices)
