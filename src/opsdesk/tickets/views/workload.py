"""Two overviews for the desk's leads: the workload (open tickets per team and agent, by priority
and age, how unevenly they are spread, and satisfaction per team) and the escalations (the
figures of a period, the escalated tickets, every escalation). Each costs a fixed number of
queries whatever the number of tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from opsdesk.accounts.models import Team
from opsdesk.tickets import selectors
from opsdesk.tickets.choices import AGE_BUCKETS, OPEN_STATUSES, EscalationKind, EscalationTrigger, Priority
from opsdesk.tickets.views.common import decorate, require_agent

PERIODS = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
DEFAULT_PERIOD = 30
AGE_LABELS = {
    "under_4h": "Under 4 h",
    "4h_to_1d": "4 h – 1 day",
    "1d_to_3d": "1–3 days",
    "over_3d": "Over 3 days",
}
PRIORITY_COLOURS = {1: "#dc3545", 2: "#fd7e14", 3: "#0dcaf0", 4: "#6c757d", 5: "#adb5bd"}
REVIEW_LIMIT = 20
ESCALATED_LIMIT = 25
PAGE_SIZE = 25
# An imbalance worth a look: the busiest agent carries twice the mean load.
IMBALANCED = 2.0


def _period(request) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


class QueueLinks:
    """Addresses of the "all tickets" queue filtered to one cell of the workload table."""

    def __init__(self, now: datetime) -> None:
        self.base = reverse("tickets:queue", args=["all"])
        self.ages: dict[str, dict[str, str]] = {}
        upper = None
        for name, hours in AGE_BUCKETS:
            bounds = {}
            if hours is not None:
                bounds["created_at__gte"] = (now - timedelta(hours=hours)).isoformat()
            if upper is not None:
                bounds["created_at__lte"] = (now - timedelta(hours=upper)).isoformat()
            self.ages[name] = bounds
            upper = hours

    def url(
        self, team: Team, agent_id: int | None, *, priority: int | None = None, age: str | None = None
    ) -> str:
        params: list[tuple[str, Any]] = [("status", status) for status in OPEN_STATUSES]
        params.append(("assigned_team", team.pk))
        params.append(("assignee", agent_id) if agent_id else ("unassigned", "true"))
        if priority is not None:
            params.append(("priority", priority))
        if age is not None:
            params.extend(self.ages[age].items())
        return f"{self.base}?{urlencode(params)}"


def _row(label: str, load: Any, team: Team, agent_id: int | None, links: QueueLinks, is_queue: bool) -> dict:
    return {
        "label": label,
        "is_queue": is_queue,
        "load": load,
        "url": links.url(team, agent_id),
        "priorities": [
            (count, links.url(team, agent_id, priority=priority))
            for priority, count in load.by_priority.items()
        ],
        "ages": [(count, links.url(team, agent_id, age=age)) for age, count in load.by_age.items()],
    }


@login_required
@require_GET
def workload(request):
    require_agent(request.user)
    user, now = request.user, timezone.now()
    links = QueueLinks(now)
    teams, charts = [], {}
    for team_load in selectors.workload_for(user=user, now=now):
        team = team_load.team
        rows = [
            _row(str(agent.agent), agent.load, team, agent.agent.pk, links, False)
            for agent in team_load.agents
        ]
        rows.append(_row("In the queue (nobody yet)", team_load.queue, team, None, links, True))
        teams.append(
            {
                "load": team_load,
                "rows": rows,
                "imbalanced": (team_load.max_over_mean or 0) >= IMBALANCED,
            }
        )
        charts[str(team.pk)] = {
            "labels": [row["label"] for row in rows],
            "datasets": [
                {
                    "label": f"P{priority}",
                    "data": [row["load"].by_priority.get(priority, 0) for row in rows],
                    "backgroundColor": PRIORITY_COLOURS[priority],
                }
                for priority in Priority.values
            ],
        }
    days = _period(request)
    since = now - timedelta(days=days)
    return render(
        request,
        "tickets/workload.html",
        {
            "teams": teams,
            "chart_data": charts,
            "priorities": Priority.values,
            "age_labels": [AGE_LABELS[name] for name, _hours in AGE_BUCKETS],
            "periods": PERIODS,
            "days": days,
            "satisfaction": selectors.satisfaction_by_team(user=user, since=since, until=now),
            "reviews": list(selectors.surveys_needing_review_for(user=user)[:REVIEW_LIMIT]),
        },
    )


@login_required
@require_GET
def escalations(request):
    require_agent(request.user)
    user, now = request.user, timezone.now()
    days = _period(request)
    kind = request.GET.get("kind", "")
    trigger = request.GET.get("trigger", "")
    records = selectors.escalation_list_for(
        user=user,
        kind=kind if kind in EscalationKind.values else None,
        trigger=trigger if trigger in EscalationTrigger.values else None,
    ).prefetch_related("notified")
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    figures = selectors.escalation_figures(user=user, since=now - timedelta(days=days), until=now)
    figures["by_kind"] = [(EscalationKind(key).label, count) for key, count in figures["by_kind"].items()]
    figures["by_trigger"] = [
        (EscalationTrigger(key).label, count) for key, count in figures["by_trigger"].items()
    ]
    return render(
        request,
        "tickets/escalations.html",
        {
            "figures": figures,
            "periods": PERIODS,
            "days": days,
            "kind": kind,
            "trigger": trigger,
            "kinds": EscalationKind.choices,
            "triggers": EscalationTrigger.choices,
            "escalated": decorate(selectors.escalated_tickets_for(user=user)[:ESCALATED_LIMIT]),
            "page_obj": page,
            "records": page.object_list,
        },
    )
