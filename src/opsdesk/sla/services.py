"""Writes for service levels: policies and targets (managers), and the clock that keeps every
ticket's timers (the system, inside the ticket's own transaction).

- ``timers_recompute``: rebuild a ticket's timers from its timeline (after every change).
- ``timers_retime``: re-measure stored timers after a calendar, target or threshold edit,
  from their segments alone (no timeline reads; this is what scales to a million tickets).
- ``sla_sweep``: record each warning and breach once, the moment it is due, and let the
  escalation rules act on it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.bulk import update_rows
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import record_create, record_delete, record_update
from opsdesk.portfolio.business_time import BusinessTimeError, schedule_for
from opsdesk.sla.choices import (
    MAX_TARGET_MINUTES,
    OPEN_TIMER_STATES,
    Metric,
    PolicyKind,
    TicketSlaState,
    TimerState,
)
from opsdesk.sla.clock import ClockSpec, measure, next_alert, periods_from_history
from opsdesk.sla.jobs import recompute_open_tickets, retime_timers
from opsdesk.sla.models import SlaAlert, SlaPolicy, SlaTarget, SlaTimer
from opsdesk.sla.selectors import LoadedPolicy, PolicyBook, ticket_facts
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services.escalation import escalation_rules_apply
from opsdesk.tickets.services.lifecycle import record_event

logger = logging.getLogger("opsdesk.sla")

METRICS_BY_KIND = {
    PolicyKind.SLA: (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION),
    PolicyKind.OLA: (Metric.FIRST_RESPONSE, Metric.RESOLUTION),
    PolicyKind.UC: (Metric.RESOLUTION,),
}
SWEEP_BATCH = 500
RETIME_BATCH = 2000


# --- the clock on one ticket -------------------------------------------------------------------


def _spec(loaded: LoadedPolicy, metric: str, ticket: Ticket) -> ClockSpec:
    policy = loaded.policy
    return ClockSpec(
        kind=policy.kind,
        metric=metric,
        pause_reasons=frozenset(policy.pause_reasons or ()),
        restart_on_reopen=policy.on_reopen == "restart",
        team_id=policy.team_id,
        provider_serves=ticket.service_id in loaded.provider_services,
    )


def _stored_segments(segments: list[list]) -> list[list]:
    return [
        [start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat() if end else None, mode, reason]
        for start, end, mode, reason in segments
    ]


def loaded_segments(segments: list[list]) -> list[list]:
    parse = datetime.fromisoformat
    return [
        [parse(start), parse(end) if end else None, mode, reason] for start, end, mode, reason in segments
    ]


def _apply_measurement(timer: SlaTimer, result, fired: Iterable[int], thresholds: list[int]) -> None:
    timer.state = result.state
    timer.elapsed_seconds = result.elapsed_seconds
    timer.running_since = result.running_since
    timer.paused_seconds = result.paused_seconds
    timer.due_at = result.due_at
    timer.breached = result.breached
    timer.breached_at = result.breached_at
    timer.stopped_at = result.stopped_at
    timer.next_alert_percent, timer.next_alert_at = next_alert(result, fired, thresholds)


def timers_recompute(
    *, ticket: Ticket, now: datetime | None = None, book: PolicyBook | None = None
) -> list[SlaTimer]:
    """Rebuild ``ticket``'s timers from its recorded history under the policies that cover it
    now. Time already elapsed is never lost: it is re-read from the timeline, not carried."""
    now = now or timezone.now()
    book = book or PolicyBook.load()
    if not book.policies and not ticket.sla_state:
        return []  # nothing covers it, and it had no timer (its summary would say so)
    existing = {
        (timer.policy_id, timer.metric, timer.cycle): timer
        for timer in SlaTimer.objects.filter(ticket=ticket)
    }
    facts = ticket_facts(ticket)
    team_ids = {fact.value for fact in facts if fact.kind == "team" and fact.value} | (
        {ticket.assigned_team_id} if ticket.assigned_team_id else set()
    )
    fired: dict[int, set[int]] = defaultdict(set)
    for timer_id, percent in SlaAlert.objects.filter(timer__ticket=ticket).values_list("timer_id", "percent"):
        fired[timer_id].add(percent)
    keep: list[SlaTimer] = []
    for match in book.matches(ticket, team_ids):
        loaded = match.loaded
        policy = loaded.policy
        try:
            schedule = schedule_for(policy.calendar)
        except BusinessTimeError:  # pragma: no cover - calendars are validated when saved
            continue
        for metric in METRICS_BY_KIND[policy.kind]:
            minutes = loaded.target_minutes(metric, ticket.priority)
            if minutes is None:
                continue
            for period in periods_from_history(_spec(loaded, metric, ticket), ticket.created_at, facts):
                timer = existing.pop((policy.pk, metric, period.cycle), None) or SlaTimer(
                    ticket=ticket, policy=policy, kind=policy.kind, metric=metric, cycle=period.cycle
                )
                timer.calendar_id, timer.target_minutes = policy.calendar_id, minutes
                timer.started_at, timer.team_id = period.started_at, period.team_id
                timer.reason = match.reason
                try:
                    result = measure(
                        segments=period.segments,
                        final=period.final,
                        stopped_at=period.stopped_at,
                        target_minutes=minutes,
                        schedule=schedule,
                        thresholds=policy.thresholds,
                        now=now,
                    )
                except BusinessTimeError:
                    logger.warning(
                        "ticket %s: policy %s cannot be timed on its calendar", ticket.pk, policy.pk
                    )
                    continue
                _apply_measurement(timer, result, fired.get(timer.pk, ()), policy.thresholds)
                timer.segments = _stored_segments(period.segments)
                keep.append(timer)
    if existing:
        # Policies that no longer cover the ticket (or targets removed): their timers go.
        SlaTimer.objects.filter(pk__in=[timer.pk for timer in existing.values()]).delete()
    for timer in keep:
        timer.save()
    _set_ticket_sla(ticket, keep, {pk for pk, percents in fired.items() if any(p < 100 for p in percents)})
    return keep


def _set_ticket_sla(ticket: Ticket, timers: list[SlaTimer], warned: set[int]) -> None:
    """The queues' summary: the most urgent running target's due time and how it stands."""
    due_at, state = sla_summary(timers, warned)
    if (ticket.sla_due_at, ticket.sla_state) != (due_at, state):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due_at, sla_state=state)
        ticket.sla_due_at, ticket.sla_state = due_at, state


def sla_summary(timers: list[SlaTimer], warned: set[int]) -> tuple[datetime | None, str]:
    if not timers:
        return None, TicketSlaState.NONE
    open_timers = [timer for timer in timers if timer.state in OPEN_TIMER_STATES]
    running = [timer for timer in open_timers if timer.state == TimerState.RUNNING and timer.due_at]
    due_at = min((timer.due_at for timer in running), default=None)
    if any(timer.breached for timer in open_timers):
        return due_at, TicketSlaState.BREACHED
    if running:
        if any(timer.pk in warned for timer in running):
            return due_at, TicketSlaState.WARNING
        return due_at, TicketSlaState.ON_TRACK
    if open_timers:
        return None, TicketSlaState.PAUSED
    if any(timer.state == TimerState.BREACHED for timer in timers):
        return None, TicketSlaState.BREACHED
    return None, TicketSlaState.MET


def tickets_sla_refresh(ticket_ids: list[int]) -> int:
    """Rewrite the queues' summary (``sla_summary``) of many tickets whose timers changed in the
    database (re-timing, the sweep): two reads by ticket, one batched write."""
    if not ticket_ids:
        return 0
    timers: dict[int, list[SimpleNamespace]] = {pk: [] for pk in ticket_ids}
    # Only the ticket filter: it keeps the planner on the ticket index (a state filter here
    # tempted SQLite into scanning every running timer once per ticket).
    for pk, ticket_id, state, due_at, breached in SlaTimer.objects.filter(
        ticket_id__in=ticket_ids
    ).values_list("pk", "ticket_id", "state", "due_at", "breached"):
        timers[ticket_id].append(SimpleNamespace(pk=pk, state=state, due_at=due_at, breached=breached))
    warned = set(
        SlaAlert.objects.filter(timer__ticket_id__in=ticket_ids, percent__lt=100).values_list(
            "timer_id", flat=True
        )
    )
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for ticket_id, found in timers.items():
        due_at, state = sla_summary(found, warned)
        rows.append((adapt(due_at) if due_at else None, state, ticket_id))
    update_rows(Ticket._meta.db_table, (("sla_due_at", "time"), ("sla_state", "text")), rows)
    return len(rows)


def on_ticket_changed(sender: Any, ticket: Ticket, **kwargs: Any) -> None:
    """Receiver of ``tickets.signals.ticket_changed``: inside the writing transaction."""
    timers_recompute(ticket=ticket)


# --- re-timing stored timers ------------------------------------------------------------------


def timers_retime(
    *,
    timers=None,
    calendar_id: int | None = None,
    policy_id: int | None = None,
    now: datetime | None = None,
    batch: int = RETIME_BATCH,
    progress=None,
) -> int:
    """Re-measure open timers (all, or those of a calendar or a policy) with the current
    calendar, target and thresholds, from their stored segments. Returns how many changed."""
    now = now or timezone.now()
    book = PolicyBook.load(SlaPolicy.objects.all())
    by_policy = {loaded.policy.pk: loaded for loaded in book.policies}
    queryset = timers if timers is not None else SlaTimer.objects.filter(state__in=OPEN_TIMER_STATES)
    if calendar_id is not None:
        queryset = queryset.filter(calendar_id=calendar_id)
    if policy_id is not None:
        queryset = queryset.filter(policy_id=policy_id)
    columns = (
        "id",
        "policy_id",
        "metric",
        "segments",
        "ticket__priority",
        "stopped_at",
        "state",
        "ticket_id",
    )
    # Each policy's schedule once, not per timer (a policy whose calendar cannot be compiled
    # keeps its timers as they are).
    schedules = {}
    for pk, loaded in by_policy.items():
        try:
            schedules[pk] = schedule_for(loaded.policy.calendar)
        except BusinessTimeError:
            continue
    last_id, changed = 0, 0
    while True:
        rows = list(queryset.filter(pk__gt=last_id).order_by("pk").values_list(*columns)[:batch])
        if not rows:
            break
        last_id = rows[-1][0]
        # The batch's alerts by id range (rows come in id order): a range scan of the unique
        # (timer, percent) index instead of an IN list of thousands of parameters. Alerts of
        # timers in the range but outside the batch are read and never looked up.
        fired: dict[int, set[int]] = defaultdict(set)
        for timer_id, percent in SlaAlert.objects.filter(
            timer_id__gte=rows[0][0], timer_id__lte=last_id
        ).values_list("timer_id", "percent"):
            fired[timer_id].add(percent)
        updates = []
        for timer_id, policy_id_, metric, segments, priority, stopped_at, state, _ticket in rows:
            loaded = by_policy.get(policy_id_)
            minutes = loaded.target_minutes(metric, priority) if loaded else None
            schedule = schedules.get(policy_id_)
            if minutes is None or schedule is None:
                continue
            policy = loaded.policy
            final = (
                None
                if state in OPEN_TIMER_STATES
                else ("cancelled" if state == TimerState.CANCELLED else "stopped")
            )
            try:
                result = measure(
                    segments=loaded_segments(segments),
                    final=final,
                    stopped_at=stopped_at,
                    target_minutes=minutes,
                    schedule=schedule,
                    thresholds=policy.thresholds,
                    now=now,
                )
            except BusinessTimeError:
                continue
            percent, alert_at = next_alert(result, fired.get(timer_id, ()), policy.thresholds)
            updates.append(
                (
                    policy.calendar_id,
                    minutes,
                    result.state,
                    result.elapsed_seconds,
                    result.paused_seconds,
                    result.due_at,
                    result.breached,
                    result.breached_at,
                    alert_at,
                    percent,
                    now,
                    timer_id,
                )
            )
        _write_retimed(updates)
        tickets_sla_refresh(sorted({row[7] for row in rows}))
        changed += len(updates)
        if progress is not None:
            progress(len(rows))
    return changed


RETIMED_COLUMNS = (
    ("calendar_id", "int"),
    ("target_minutes", "int"),
    ("state", "text"),
    ("elapsed_seconds", "int"),
    ("paused_seconds", "int"),
    ("due_at", "time"),
    ("breached", "bool"),
    ("breached_at", "time"),
    ("next_alert_at", "time"),
    ("next_alert_percent", "int"),
    ("updated_at", "time"),
)


def _write_retimed(updates: list[tuple]) -> None:
    if not updates:
        return
    adapt = connection.ops.adapt_datetimefield_value
    # Only due_at, breached_at, next_alert_at (5, 7, 8) and updated_at (10, the same for all)
    # hold datetimes: adapting those alone keeps a million-row re-timing cheap.
    updated_at = adapt(updates[0][10])
    rows = [
        (
            *row[:5],
            adapt(row[5]) if row[5] is not None else None,
            row[6],
            adapt(row[7]) if row[7] is not None else None,
            adapt(row[8]) if row[8] is not None else None,
            row[9],
            updated_at,
            row[11],
        )
        for row in updates
    ]
    update_rows(SlaTimer._meta.db_table, RETIMED_COLUMNS, rows)


# --- warnings and breaches ---------------------------------------------------------------------


def sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Record every threshold now reached (through the indexed ``next_alert_at``), once each,
    and let the escalation rules act on the tickets concerned. Returns how many were recorded."""
    now = now or timezone.now()
    # "Not any other state" rather than "state = running": the same rows (a state is always one
    # of TimerState), but an equality on state would lead SQLite's planner to the (state,
    # due_at) index and a sort of every running timer; this way it walks sla_timer_alert_idx
    # in order and stops after ``batch`` rows, whatever the number of open timers.
    due = list(
        SlaTimer.objects.filter(next_alert_at__lte=now)
        .exclude(state__in=[state for state in TimerState.values if state != TimerState.RUNNING])
        .select_related("policy__calendar", "ticket")
        .order_by("next_alert_at", "pk")[:batch]
    )
    recorded = 0
    for timer in due:
        recorded += _fire_due_alerts(timer, now)
    return recorded


def _fire_due_alerts(timer: SlaTimer, now: datetime) -> int:
    policy = timer.policy
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=timer.ticket_id)
        timer.refresh_from_db()
        if timer.state != TimerState.RUNNING:
            return 0
        result = measure(
            segments=loaded_segments(timer.segments),
            final=None,
            stopped_at=None,
            target_minutes=timer.target_minutes,
            schedule=schedule_for(policy.calendar),
            thresholds=policy.thresholds,
            now=now,
        )
        fired = set(SlaAlert.objects.filter(timer=timer).values_list("percent", flat=True))
        reached = [
            percent
            for percent in policy.thresholds
            if percent not in fired and result.marks.get(percent) is not None and result.marks[percent] <= now
        ]
        created = []
        for percent in reached:
            try:
                with transaction.atomic():
                    SlaAlert.objects.create(timer=timer, percent=percent, reached_at=result.marks[percent])
                created.append(percent)
            except IntegrityError:  # another sweep recorded it first
                fired.add(percent)
        fired.update(created)
        _apply_measurement(timer, result, fired, policy.thresholds)
        timer.save()
        if created:
            top = max(created)
            with acting(channel="system"):
                record_event(
                    ticket,
                    EventKind.SLA,
                    None,
                    body=_alert_text(timer, top),
                    data={
                        "timer": timer.pk,
                        "policy": policy.name,
                        "metric": timer.metric,
                        "percent": created,
                        "reached_at": result.marks[top].isoformat(),
                    },
                )
            tickets_sla_refresh([ticket.pk])
            ticket.refresh_from_db(fields=["sla_due_at", "sla_state"])
            escalation_rules_apply(ticket=ticket, now=now)
        return len(created)


def _alert_text(timer: SlaTimer, percent: int) -> str:
    metric = timer.get_metric_display().lower()
    if percent >= 100:
        return (
            f"{timer.policy.name}: the {metric} target ({timer.target_minutes} business minutes) is breached."
        )
    return (
        f"{timer.policy.name}: {percent} % of the {metric} target "
        f"({timer.target_minutes} business minutes) is used."
    )


# --- policies and targets (managers) ------------------------------------------------------------

POLICY_FIELDS = frozenset(
    {
        "name",
        "description",
        "kind",
        "is_active",
        "position",
        "calendar",
        "ticket_types",
        "priorities",
        "team",
        "provider",
        "pause_reasons",
        "on_reopen",
        "thresholds",
    }
)
POLICY_M2M = ("services", "organizations", "categories")
TIMING_FIELDS = frozenset({"calendar", "thresholds"})


def policy_save(
    *, actor: User, data: dict[str, Any], policy: SlaPolicy | None = None, expected_version: int | None = None
) -> SlaPolicy:
    """Create an SLA/OLA/UC policy or change one; the open timers follow (re-timed at once for a
    calendar or threshold change, rebuilt in the background for a change of coverage)."""
    m2m = {name: data.pop(name) for name in POLICY_M2M if name in data}
    unknown = sorted(set(data) - POLICY_FIELDS)
    if unknown:
        raise ServiceError(f"{unknown[0]} is not a policy field.", field=unknown[0])
    if policy is None:
        saved = record_create(model=SlaPolicy, actor=actor, data=data, m2m=m2m or None)
    else:
        if policy.timers.exists() and "kind" in data and data["kind"] != policy.kind:
            raise ServiceError(
                "A policy that has timed tickets keeps its kind; create a new one.", field="kind"
            )
        saved = record_update(
            instance=policy, actor=actor, data=data, expected_version=expected_version, m2m=m2m or None
        )
    _follow_policy_change(saved, created=policy is None, fields=set(data) | set(m2m))
    return saved


def _follow_policy_change(policy: SlaPolicy, *, created: bool, fields: set[str]) -> None:
    if not created and fields and fields <= TIMING_FIELDS:
        _after_commit(("retime", policy.pk), lambda: retime_timers.enqueue(policy_id=policy.pk))
    else:
        _after_commit(("recompute",), recompute_open_tickets.enqueue)


def _after_commit(key: tuple, enqueue) -> None:
    """Enqueue a job when the transaction commits, once per transaction: a manager's ten
    target edits in one request rebuild the timers once, not ten times."""
    if any(getattr(item[1], "sla_job", None) == key for item in connection.run_on_commit):
        return

    def run() -> None:
        enqueue()

    run.sla_job = key  # type: ignore[attr-defined]
    transaction.on_commit(run)


def policy_delete(*, actor: User, policy: SlaPolicy, expected_version: int | None = None) -> None:
    if policy.timers.exists():
        raise ServiceError(
            "This policy has timed tickets and its figures are part of the reports: deactivate it instead.",
            code="in_use",
        )
    record_delete(instance=policy, actor=actor, expected_version=expected_version)


def target_save(
    *, actor: User, data: dict[str, Any], target: SlaTarget | None = None, expected_version: int | None = None
) -> SlaTarget:
    """Add or change a target; zero, negative or absurd targets are refused."""
    minutes = data.get("minutes", target.minutes if target else None)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TARGET_MINUTES:
        raise ServiceError(
            f"A target is a whole number of business minutes from 1 to {MAX_TARGET_MINUTES}.", field="minutes"
        )
    if target is None:
        saved = record_create(model=SlaTarget, actor=actor, data=data)
    else:
        if "policy" in data and data["policy"].pk != target.policy_id:
            raise ServiceError("A target stays with its policy.", field="policy")
        saved = record_update(instance=target, actor=actor, data=data, expected_version=expected_version)
    _after_target_change(saved.policy_id)
    return saved


def target_delete(*, actor: User, target: SlaTarget, expected_version: int | None = None) -> None:
    policy_id = target.policy_id
    record_delete(instance=target, actor=actor, expected_version=expected_version)
    _after_target_change(policy_id)


def _after_target_change(policy_id: int) -> None:
    # A new or removed target adds or removes timers: rebuild (one job per transaction).
    _after_commit(("recompute",), recompute_open_tickets.enqueue)


def open_tickets_recompute(*, batch: int = 500, progress=None) -> int:
    """Rebuild the timers of every open ticket (after a change of what policies cover)."""
    from opsdesk.tickets.choices import OPEN_STATUSES

    book = PolicyBook.load()
    last_id = done = 0
    while True:
        tickets = list(
            Ticket.objects.filter(pk__gt=last_id, status__in=OPEN_STATUSES)
            .select_related("service", "organization", "category")
            .order_by("pk")[:batch]
        )
        if not tickets:
            return done
        for ticket in tickets:
            with transaction.atomic():
                timers_recompute(ticket=ticket, book=book)
        last_id, done = tickets[-1].pk, done + len(tickets)
        if progress is not None:
            progress(len(tickets))
