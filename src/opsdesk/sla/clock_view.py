"""A ticket's clock as people read it (the API's ``GET /tickets/{number}/sla/`` and the ticket
page): each timer the user may see with its business time used *by now*, its segments and the
thresholds it reached, in plain dicts.

Requesters see only the SLA timers of the tickets they may see (never the OLAs and UCs behind
them), no alerts, and a summary state computed from those timers alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opsdesk.accounts.models import User
from opsdesk.portfolio.business_time import BusinessTimeError, business_seconds_between, schedule_for
from opsdesk.sla.choices import OPEN_TIMER_STATES, Metric, TimerState
from opsdesk.sla.clock import measure
from opsdesk.sla.models import SlaAlert, SlaTimer
from opsdesk.sla.selectors import PolicyBook
from opsdesk.sla.services import loaded_segments, sla_summary
from opsdesk.tickets.models import Ticket

METRIC_ORDER = {Metric.FIRST_RESPONSE: 0, Metric.NEXT_RESPONSE: 1, Metric.RESOLUTION: 2}
KIND_ORDER = {"sla": 0, "ola": 1, "uc": 2}


def timer_clock(timer: SlaTimer, now: datetime, alerts: list[SlaAlert] | None = None) -> dict[str, Any]:
    """One timer, measured live: business minutes used by ``now`` and per segment."""
    segments = loaded_segments(timer.segments or [])
    elapsed, paused = timer.elapsed_seconds, timer.paused_seconds
    counted: list[int | None] = [None] * len(segments)
    schedule = None
    try:
        schedule = schedule_for(timer.calendar)
        final = (
            None
            if timer.state in OPEN_TIMER_STATES
            else ("cancelled" if timer.state == TimerState.CANCELLED else "stopped")
        )
        result = measure(
            segments=segments,
            final=final,
            stopped_at=timer.stopped_at,
            target_minutes=timer.target_minutes,
            schedule=schedule,
            thresholds=[100],
            now=now,
        )
        elapsed, paused = result.elapsed_at(schedule, now), result.paused_seconds
        counted = list(result.counted)
    except BusinessTimeError:
        schedule = None  # a calendar without working time: show what the clock last stored
    rows = []
    for (start, end, mode, reason), seconds in zip(segments, counted, strict=True):
        if seconds is None and schedule is not None and mode == "running" and end is None:
            seconds = business_seconds_between(schedule, start, max(start, now))
        rows.append(
            {
                "start": start,
                "end": end,
                "mode": mode,
                "reason": reason,
                "business_minutes": (seconds or 0) // 60,
                "business_seconds": seconds,
            }
        )
    target_seconds = timer.target_minutes * 60
    return {
        "id": timer.pk,
        "policy": {"id": timer.policy_id, "name": timer.policy.name, "kind": timer.policy.kind},
        "metric": timer.metric,
        "cycle": timer.cycle,
        "state": timer.state,
        "target_minutes": timer.target_minutes,
        "elapsed_minutes": elapsed // 60,
        "elapsed_seconds": elapsed,
        "paused_minutes": paused // 60,
        "paused_seconds": paused,
        "percent_used": elapsed * 100 // target_seconds if target_seconds else 0,
        "due_at": timer.due_at,
        "breached": timer.breached,
        "breached_at": timer.breached_at,
        "started_at": timer.started_at,
        "stopped_at": timer.stopped_at,
        "reason": timer.reason,
        "segments": rows,
        "alerts": [{"percent": alert.percent, "reached_at": alert.reached_at} for alert in alerts or ()],
    }


def ticket_clock(ticket: Ticket, user: User, now: datetime) -> dict[str, Any]:
    """The clock of ``ticket`` as ``user`` may see it, measured at ``now``.

    The caller has checked that ``user`` may see ``ticket``. Returns ``{"ticket": number,
    "state", "due_at", "no_sla_reason": [{"policy", "criterion"}], "timers": [...]}``; every
    cycle of every visible timer is listed, oldest cycle first within each target."""
    timers = list(
        SlaTimer.objects.restrict(user, "view")
        .filter(ticket=ticket)
        .select_related("policy", "calendar")
        .order_by("policy__name", "metric", "cycle", "pk")
    )
    timers.sort(key=lambda timer: (KIND_ORDER.get(timer.kind, 9), METRIC_ORDER.get(timer.metric, 9)))
    alerts: dict[int, list[SlaAlert]] = {}
    if timers:
        for alert in SlaAlert.objects.restrict(user, "view").filter(timer__in=[timer.pk for timer in timers]):
            alerts.setdefault(alert.timer_id, []).append(alert)
    staff = bool(getattr(user, "is_agent", False))
    if staff:
        due_at, state = ticket.sla_due_at, ticket.sla_state
    else:
        warned = (
            set(
                SlaAlert.objects.filter(
                    timer__in=[timer.pk for timer in timers if timer.state == TimerState.RUNNING],
                    percent__lt=100,
                ).values_list("timer_id", flat=True)
            )
            if timers
            else set()
        )
        due_at, state = sla_summary(timers, warned)
    no_sla_reason: list[dict[str, str]] = []
    if staff and not timers and not ticket.sla_state:
        no_sla_reason = [
            {"policy": name, "criterion": criterion} for name, criterion in PolicyBook.load().why_not(ticket)
        ]
    return {
        "ticket": ticket.number,
        "state": state,
        "due_at": due_at,
        "no_sla_reason": no_sla_reason,
        "timers": [timer_clock(timer, now, alerts.get(timer.pk)) for timer in timers],
    }
