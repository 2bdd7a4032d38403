"""The SLA clock, as two pure steps that touch no database.

1. ``periods_from_history``: a ticket's recorded history (its status changes, assignments and
   replies, in order) → for one target of one policy, the measured periods, each a list of
   wall-clock segments: running, paused (and why), or stopped for a while (a resolution that
   was reopened and continued). Nothing here depends on the calendar or the target.
2. ``measure``: one period + the policy's calendar + the target → business time elapsed, the
   due time, the breach and the instant each warning threshold is (or will be) reached.

Keeping the steps apart is what makes the clock correct and cheap: a change of priority,
policy or calendar re-runs step 2 on the stored segments and loses no time already elapsed;
anything that changes the history (a reopen, a new assignment) re-runs step 1 from the
timeline. Both are explained to users by the segments themselves (the SLA timeline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from opsdesk.portfolio.business_time import Schedule, add_business_seconds_many, business_seconds_between
from opsdesk.sla.choices import Metric, PolicyKind, TimerState

# Segment modes.
RUN, PAUSE, HOLD = "running", "paused", "stopped"

# Ticket statuses, as the history records them (the values of tickets.choices.Status).
OPEN = frozenset({"new", "assigned", "in_progress", "pending"})
RESOLVED, CLOSED, CANCELLED, PENDING, IN_PROGRESS = (
    "resolved",
    "closed",
    "cancelled",
    "pending",
    "in_progress",
)
VENDOR = "vendor"


# --- step 1: history → periods ------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One recorded thing that moves a clock. ``kind`` is ``status`` (value: (status,
    pending_reason)), ``team`` (value: team id or None), ``agent_reply`` or ``requester_reply``."""

    at: datetime
    kind: str
    value: object = None


@dataclass(frozen=True)
class ClockSpec:
    """How one target of one policy reads the history."""

    kind: str
    metric: str
    pause_reasons: frozenset[str] = frozenset({"requester"})
    restart_on_reopen: bool = False
    team_id: int | None = None  # OLA: the team whose assignments are timed
    provider_serves: bool = False  # UC: the policy's provider delivers the ticket's service


@dataclass
class Period:
    """One measured period: ``segments`` are ``[start, end or None, mode, reason]``."""

    cycle: int
    started_at: datetime
    segments: list[list] = field(default_factory=list)
    final: str | None = None  # None while open; "stopped" or "cancelled"
    stopped_at: datetime | None = None
    team_id: int | None = None


@dataclass
class _Snapshot:
    status: str = "new"
    reason: str = ""
    team: int | None = None
    responded: bool = False  # an agent answered publicly (or the ticket was resolved)
    awaiting_reply: bool = False  # the requester wrote after the desk's last public answer
    acknowledged: bool = False  # the assigned team took the ticket up (OLA first response)


def _desired(spec: ClockSpec, snap: _Snapshot) -> tuple[str, str]:
    """What the clock of ``spec`` should be doing given the ticket's state: ``(mode, reason)``
    with mode RUN, PAUSE, "off" (not measuring) or "cancelled"."""
    if snap.status == CANCELLED:
        return "cancelled", "the ticket was cancelled"
    is_open = snap.status in OPEN
    if spec.kind == PolicyKind.UC:
        waiting = snap.status == PENDING and snap.reason == VENDOR and spec.provider_serves
        return (RUN, "waiting on the provider") if waiting else ("off", "not waiting on the provider")
    if spec.kind == PolicyKind.OLA:
        if snap.team != spec.team_id:
            return "off", "not with the team"
        if spec.metric == Metric.FIRST_RESPONSE and snap.acknowledged:
            return "off", "the team responded"
    elif spec.metric == Metric.FIRST_RESPONSE and snap.responded:
        return "off", "responded"
    elif spec.metric == Metric.NEXT_RESPONSE and not snap.awaiting_reply:
        return "off", "answered"
    if not is_open:
        return "off", snap.status
    if snap.status == PENDING and snap.reason in spec.pause_reasons:
        return PAUSE, f"pending: {snap.reason}"
    return RUN, ""


def _apply(snap: _Snapshot, fact: Fact) -> tuple[bool, bool]:
    """Apply a fact to the snapshot; returns (reopened, new_assignment)."""
    reopened = new_assignment = False
    if fact.kind == "status":
        status, reason = fact.value
        reopened = snap.status in (RESOLVED, CLOSED) and status in OPEN
        snap.status, snap.reason = status, reason or ""
        if status == RESOLVED:
            snap.responded = True
            snap.awaiting_reply = False
        if status == IN_PROGRESS:
            snap.acknowledged = True
    elif fact.kind == "team":
        new_assignment = fact.value is not None and fact.value != snap.team
        snap.team = fact.value
        if new_assignment:
            snap.acknowledged = False
    elif fact.kind == "agent_reply":
        snap.responded = snap.acknowledged = True
        snap.awaiting_reply = False
    elif fact.kind == "requester_reply" and snap.responded and snap.status in OPEN:
        snap.awaiting_reply = True
    return reopened, new_assignment


def periods_from_history(spec: ClockSpec, created_at: datetime, facts: Iterable[Fact]) -> list[Period]:
    """The periods ``spec`` measured over a ticket's history, oldest first."""
    snap = _Snapshot()
    periods: list[Period] = []
    current: Period | None = None
    mode, reason = _desired(spec, snap)

    def begin(at: datetime, mode: str, reason: str) -> Period:
        period = Period(cycle=len(periods) + 1, started_at=at, team_id=snap.team)
        period.segments.append([at, None, mode, reason])
        periods.append(period)
        return period

    if mode in (RUN, PAUSE):
        current = begin(created_at, mode, reason)
    for fact in facts:
        reopened, new_assignment = _apply(snap, fact)
        new_mode, new_reason = _desired(spec, snap)
        at = fact.at
        if current is not None and current.final is None:
            last = current.segments[-1]
            restart = (reopened and spec.restart_on_reopen) or (
                spec.kind == PolicyKind.OLA and new_assignment
            )
            if new_mode in (RUN, PAUSE) and last[2] == HOLD and restart:
                # The stopped stretch ends the period where it stopped: a new cycle begins.
                current.segments.pop()
                current.final = "stopped"
                current = begin(at, new_mode, new_reason)
            elif new_mode in (RUN, PAUSE):
                if (last[2], last[3]) != (new_mode, new_reason):
                    if last[2] == HOLD or last[0] != at:
                        last[1] = at
                    else:
                        current.segments.pop()  # a zero-length segment explains nothing
                    current.segments.append([at, None, new_mode, new_reason])
                    current.stopped_at = None
            elif new_mode == "cancelled":
                if last[2] != HOLD:
                    last[1] = at
                else:
                    current.segments.pop()
                current.final, current.stopped_at = "cancelled", current.stopped_at or at
            elif last[2] != HOLD:
                last[1] = at
                current.stopped_at = at
                continues = (
                    snap.status in (RESOLVED, CLOSED)
                    and not spec.restart_on_reopen
                    and spec.metric == Metric.RESOLUTION
                    and spec.kind != PolicyKind.UC
                )
                if continues:
                    # Held open: a reopen within the reopen period continues this period.
                    current.segments.append([at, None, HOLD, snap.status])
                else:
                    current.final = "stopped"
        elif new_mode in (RUN, PAUSE):
            current = begin(at, new_mode, new_reason)
    if current is not None and current.final is None and current.segments[-1][2] == HOLD:
        # Resolved and not (yet) reopened: the period is over as far as anyone can tell.
        current.segments.pop()
        current.final = "stopped"
    return periods


# --- step 2: a period + a calendar + a target → the measurement --------------------------------


@dataclass
class Measurement:
    state: str
    elapsed_seconds: int  # business seconds of closed running segments
    running_since: datetime | None
    paused_seconds: int
    due_at: datetime | None
    breached: bool
    breached_at: datetime | None
    stopped_at: datetime | None
    marks: dict[int, datetime | None]  # threshold percent → instant reached (or projected)
    counted: list[int]  # business seconds counted by each segment (None while open)

    def elapsed_at(self, schedule: Schedule, now: datetime) -> int:
        """Business seconds used by ``now`` (the running segment counted up to ``now``)."""
        if self.running_since is None:
            return self.elapsed_seconds
        return self.elapsed_seconds + business_seconds_between(schedule, self.running_since, now)


def threshold_seconds(target_seconds: int, percent: int) -> int:
    """Business seconds at which ``percent`` of the target is used (never early: rounded up)."""
    return -(-target_seconds * percent // 100)


def measure(
    *,
    segments: Sequence[Sequence],
    final: str | None,
    stopped_at: datetime | None,
    target_minutes: int,
    schedule: Schedule,
    thresholds: Sequence[int],
    now: datetime,
) -> Measurement:
    """Business time elapsed, due and breach times, and threshold instants of one period."""
    target = target_minutes * 60
    marks_needed = sorted({threshold_seconds(target, percent) for percent in thresholds} | {target})
    found: dict[int, datetime | None] = dict.fromkeys(marks_needed)
    elapsed = paused = 0
    running_since = None
    counted: list[int] = []
    for start, end, mode, _reason in segments:
        if mode == RUN:
            if end is None:
                running_since = start
                ahead = [mark for mark in marks_needed if found[mark] is None and mark > elapsed]
                instants = add_business_seconds_many(schedule, start, [mark - elapsed for mark in ahead])
                found.update(zip(ahead, instants, strict=True))
                counted.append(None)
                continue
            amount = business_seconds_between(schedule, start, end)
            inside = [
                mark for mark in marks_needed if found[mark] is None and elapsed < mark <= elapsed + amount
            ]
            instants = add_business_seconds_many(schedule, start, [mark - elapsed for mark in inside])
            found.update(zip(inside, instants, strict=True))
            elapsed += amount
            counted.append(amount)
        else:
            if mode == PAUSE:
                paused += int(((end or now) - start).total_seconds())
            counted.append(0)
    due_at = found[target]
    if final == "cancelled":
        state = TimerState.CANCELLED
    elif final == "stopped":
        state = TimerState.BREACHED if elapsed > target else TimerState.MET
    elif running_since is not None:
        state = TimerState.RUNNING
    else:
        state = TimerState.PAUSED
    if state == TimerState.MET:
        # Stopped in time: the due time it had is history; only a breach keeps its instant.
        due_at = None if elapsed < target else due_at
    breached = elapsed > target or (state == TimerState.RUNNING and due_at is not None and due_at <= now)
    marks = {percent: found[threshold_seconds(target, percent)] for percent in thresholds}
    return Measurement(
        state=state,
        elapsed_seconds=elapsed,
        running_since=running_since,
        paused_seconds=paused,
        due_at=due_at,
        breached=breached and state != TimerState.CANCELLED,
        breached_at=due_at if breached and state != TimerState.CANCELLED else None,
        stopped_at=stopped_at if final else None,
        marks=marks,
        counted=counted,
    )


def next_alert(
    measurement: Measurement, fired: Iterable[int], thresholds: Sequence[int]
) -> tuple[int | None, datetime | None]:
    """The lowest threshold not yet fired and its instant, for running timers; paused and
    stopped timers wait for nothing (a paused one is re-timed when it resumes)."""
    if measurement.state != TimerState.RUNNING:
        return None, None
    done = set(fired)
    for percent in sorted(thresholds):
        if percent not in done and measurement.marks.get(percent) is not None:
            return percent, measurement.marks[percent]
    return None, None
