"""The SLA panel of a ticket and the queues' "Due" cell.

``{% load sla %}`` then ``{% sla_panel ticket %}`` on the agent's ticket page (every timer,
its progress and its timeline), ``{% sla_promise ticket %}`` on the requester's page (one plain
line from their SLA, never the OLAs and UCs behind it) and ``{{ ticket|sla_due }}`` in a queue
row. The panel reads a fixed number of queries whatever the number of timers or segments:
the timers with their policies and calendars, their alerts, and (only when there is no timer)
the active policies to explain why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone

from opsdesk.sla.choices import PolicyKind, TicketSlaState, TimerState
from opsdesk.sla.clock import PAUSE, RUN
from opsdesk.sla.clock_view import timer_clock
from opsdesk.sla.models import SlaAlert, SlaTimer
from opsdesk.sla.selectors import PolicyBook, current_timers
from opsdesk.tickets.choices import PendingReason

register = template.Library()

PENDING_LABELS = dict(PendingReason.choices)

STATE_BADGES = {
    TimerState.RUNNING: "text-bg-success",
    TimerState.PAUSED: "text-bg-secondary",
    TimerState.MET: "text-bg-primary",
    TimerState.BREACHED: "text-bg-danger",
    TimerState.CANCELLED: "text-bg-light border",
}
MODE_LABELS = {RUN: "Running", PAUSE: "Paused", "stopped": "Stopped"}
CRITERION_LABELS = {
    "type": "the ticket's type is not covered",
    "priority": "the ticket's priority is not covered",
    "service": "the ticket's service is not covered",
    "organisation": "the requester's organisation is not covered",
    "category": "the ticket's category is not covered",
}
# What the queues show for each state of the ticket's most urgent timer.
DUE_CLASSES = {
    TicketSlaState.ON_TRACK: "sla-on-track",
    TicketSlaState.WARNING: "sla-warning",
    TicketSlaState.BREACHED: "sla-breached",
    TicketSlaState.PAUSED: "sla-paused",
    TicketSlaState.MET: "sla-met",
}


def duration_text(seconds: float) -> str:
    """A short human duration: 45s → "<1m", 130 min → "2h 10m", 3 days → "3d 0h"."""
    seconds = int(abs(seconds))
    if seconds < 60:
        return "<1m"
    minutes = seconds // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def reason_text(reason: str) -> str:
    """A segment's reason in words: ``pending: requester`` → "Waiting on the requester"."""
    if reason.startswith("pending: "):
        code = reason.removeprefix("pending: ")
        return PENDING_LABELS.get(code, f"Pending ({code})")
    return reason[:1].upper() + reason[1:]


def _zone(user: Any) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def timer_view(timer: SlaTimer, alerts: list[SlaAlert], zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """One timer as the panel shows it: progress, time left, due time and its timeline."""
    target_seconds = timer.target_minutes * 60
    clock = timer_clock(timer, now, alerts)
    used, paused = clock["elapsed_seconds"], clock["paused_seconds"]
    rows = []
    for segment in clock["segments"]:
        start, end, mode, seconds = (
            segment["start"],
            segment["end"],
            segment["mode"],
            segment["business_seconds"],
        )
        rows.append(
            {
                "start": start.astimezone(zone),
                "end": end.astimezone(zone) if end else None,
                "mode": mode,
                "mode_label": MODE_LABELS.get(mode, mode),
                "reason": reason_text(segment["reason"] or ""),
                "minutes": duration_text(seconds) if mode == RUN and seconds is not None else "—",
                "open": end is None,
            }
        )
    percent = round(100 * used / target_seconds) if target_seconds else 0
    open_ = timer.state in (TimerState.RUNNING, TimerState.PAUSED)
    if timer.state == TimerState.PAUSED:
        left = max(target_seconds - used, 0)
        left_text = f"Paused · {duration_text(left)} of business time left" if left else "Paused · overdue"
    elif timer.state == TimerState.RUNNING and timer.due_at is not None:
        delta = (timer.due_at - now).total_seconds()
        left_text = f"{duration_text(delta)} left" if delta > 0 else f"Overdue by {duration_text(delta)}"
    elif timer.state == TimerState.MET:
        left_text = "Met"
    elif timer.state == TimerState.BREACHED:
        left_text = "Breached"
    else:
        left_text = "Cancelled"
    overdue = timer.breached or (open_ and timer.due_at is not None and timer.due_at <= now)
    if overdue:
        bar = "sla-bar-breached"
    elif timer.state == TimerState.PAUSED:
        bar = "sla-bar-paused"
    elif percent >= (min(timer.policy.thresholds) if timer.policy.thresholds else 100):
        bar = "sla-bar-warning"
    else:
        bar = "sla-bar-on-track"
    return {
        "timer": timer,
        "policy": timer.policy,
        "kind": PolicyKind(timer.kind).name,
        "metric": timer.get_metric_display(),
        "state": timer.get_state_display(),
        "badge": STATE_BADGES.get(timer.state, "text-bg-light"),
        "percent": percent,
        "bar_percent": min(max(percent, 0), 100),
        "bar_class": bar,
        "used": duration_text(used),
        "target": duration_text(target_seconds),
        "left_text": left_text,
        "overdue": overdue,
        "due": timer.due_at.astimezone(zone) if timer.due_at else None,
        "stopped": timer.stopped_at.astimezone(zone) if timer.stopped_at else None,
        "paused": duration_text(paused) if paused else "",
        "segments": rows,
        "alerts": [
            {"percent": alert.percent, "reached_at": alert.reached_at.astimezone(zone)} for alert in alerts
        ],
    }


@register.inclusion_tag("sla/partials/sla_panel.html", takes_context=True)
def sla_panel(context, ticket) -> dict[str, Any]:
    """Every current timer of ``ticket`` for staff; "No SLA" and why when there is none."""
    user = context.get("user") or getattr(context.get("request"), "user", None)
    now = timezone.now()
    zone = _zone(user)
    timers = current_timers(
        list(
            SlaTimer.objects.restrict(user, "view")
            .filter(ticket=ticket)
            .select_related("policy", "calendar", "team")
            .order_by("kind", "policy__name", "metric", "cycle")
        )
    )
    alerts: dict[int, list[SlaAlert]] = {}
    if timers:
        rows = SlaAlert.objects.restrict(user, "view").filter(timer__in=[timer.pk for timer in timers])
        for alert in rows.order_by("timer_id", "percent"):
            alerts.setdefault(alert.timer_id, []).append(alert)
    why_not: list[tuple[str, str]] = []
    if not timers:
        book = PolicyBook.load()
        why_not = [
            (name, CRITERION_LABELS.get(criterion, criterion)) for name, criterion in book.why_not(ticket)
        ]
        has_sla_policy = bool(book.by_kind.get(PolicyKind.SLA))
    else:
        has_sla_policy = True
    return {
        "ticket": ticket,
        "timers": [timer_view(timer, alerts.get(timer.pk, []), zone, now) for timer in timers],
        "why_not": why_not,
        "has_sla_policy": has_sla_policy,
        "zone": str(zone),
    }


@register.inclusion_tag("sla/partials/sla_promise.html", takes_context=True)
def sla_promise(context, ticket) -> dict[str, Any]:
    """The requester's line: when we aim to resolve (or first answer) their ticket."""
    user = context.get("user") or getattr(context.get("request"), "user", None)
    zone = _zone(user)
    timers = current_timers(
        list(
            SlaTimer.objects.restrict(user, "view")
            .filter(ticket=ticket, kind=PolicyKind.SLA)
            .order_by("metric", "cycle")
        )
    )
    lines = []
    for timer in timers:
        if timer.state == TimerState.RUNNING and timer.due_at is not None:
            verb = "resolve this" if timer.metric == "resolution" else "reply to you"
            lines.append({"verb": verb, "due": timer.due_at.astimezone(zone)})
        elif timer.state == TimerState.PAUSED and timer.metric == "resolution":
            lines.append({"verb": "resolve this", "due": None})
    return {"lines": lines}


@register.filter
def sla_due(ticket) -> dict[str, str]:
    """The queue's "Due" cell from the ticket's derived fields: text and colour class."""
    state = getattr(ticket, "sla_state", "") or ""
    due = getattr(ticket, "sla_due_at", None)
    css = DUE_CLASSES.get(state, "sla-none")
    if state == TicketSlaState.PAUSED:
        return {"text": "paused", "css": css, "label": "SLA clock paused"}
    if state == TicketSlaState.MET:
        return {"text": "met", "css": css, "label": "SLA met"}
    if not state or due is None:
        return {"text": "—", "css": "sla-none", "label": "No SLA"}
    delta = (due - timezone.now()).total_seconds()
    if delta <= 0 or state == TicketSlaState.BREACHED:
        text = f"overdue {duration_text(delta)}" if delta <= 0 else f"{duration_text(delta)} left"
        return {"text": text, "css": DUE_CLASSES[TicketSlaState.BREACHED], "label": "SLA breached"}
    label = "SLA warning" if state == TicketSlaState.WARNING else "SLA on track"
    return {"text": f"{duration_text(delta)} left", "css": css, "label": label}
