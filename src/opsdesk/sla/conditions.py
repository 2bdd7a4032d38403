"""The conditions service levels add to the desk's escalation (and routing) rules.

- ``sla_threshold``: a threshold of the ticket's clock has been reached: ``{"percent": 75}``,
  optionally only for some metrics or kinds. It holds once the SLA sweep has recorded a
  threshold at or above ``percent`` for an open timer (a rule at 80 holds at a policy's 90),
  and the sweep runs the rules at that moment, so an escalation is neither early nor late.
- ``sla_breach_within``: a running target falls due within ``minutes`` (wall-clock).

Both narrow the escalation sweep in the database (the alert rows, the indexed due time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q

from opsdesk.sla.choices import OPEN_TIMER_STATES, Metric, PolicyKind, TimerState
from opsdesk.sla.models import SlaAlert, SlaTimer
from opsdesk.tickets.conditions import MAX_MINUTES, Param, one_of, register_condition, whole_number

SCOPE = {
    "metric": Param(one_of(Metric.values), required=False),
    "kind": Param(one_of(PolicyKind.values), required=False),
}


def _alerts(params: dict) -> Q:
    query = Q(percent__gte=params["percent"], timer__state__in=OPEN_TIMER_STATES)
    if params.get("metric"):
        query &= Q(timer__metric__in=params["metric"])
    if params.get("kind"):
        query &= Q(timer__kind__in=params["kind"])
    return query


def _threshold_test(ticket: Any, params: dict, now: datetime) -> bool:
    return SlaAlert.objects.filter(_alerts(params), timer__ticket_id=ticket.pk).exists()


def _threshold_candidates(params: dict, now: datetime) -> Q:
    return Q(Exists(SlaAlert.objects.filter(_alerts(params), timer__ticket_id=OuterRef("pk"))))


register_condition(
    "sla_threshold",
    label="SLA time used reaches (%)",
    params={"percent": Param(whole_number(minimum=1, maximum=100)), **SCOPE},
    test=_threshold_test,
    candidates=_threshold_candidates,
)


def _due_soon(params: dict, now: datetime) -> Q:
    query = Q(
        state=TimerState.RUNNING,
        breached=False,
        due_at__isnull=False,
        due_at__lte=now + timedelta(minutes=params["minutes"]),
    )
    if params.get("metric"):
        query &= Q(metric__in=params["metric"])
    if params.get("kind"):
        query &= Q(kind__in=params["kind"])
    return query


register_condition(
    "sla_breach_within",
    label="SLA breaches within (minutes)",
    params={"minutes": Param(whole_number(minimum=0, maximum=MAX_MINUTES)), **SCOPE},
    test=lambda ticket, params, now: SlaTimer.objects.filter(
        _due_soon(params, now), ticket_id=ticket.pk
    ).exists(),
    candidates=lambda params, now: Q(
        Exists(SlaTimer.objects.filter(_due_soon(params, now), ticket_id=OuterRef("pk")))
    ),
)
