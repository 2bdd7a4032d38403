"""Properties of the pure clock over random ticket histories (hypothesis), against a
minute-by-minute oracle: the resolution clock counts exactly the business minutes during
which the ticket was open and not paused, and its due time is the instant the target is used."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.portfolio.business_time import (
    add_business_seconds,
    add_business_seconds_many,
    business_seconds_between,
    compile_schedule,
    is_working,
)
from opsdesk.sla.choices import Metric, PolicyKind, TimerState
from opsdesk.sla.clock import ClockSpec, Fact, measure, periods_from_history

START = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)  # spans the Berlin DST change of 29 March
OFFICE = compile_schedule(
    SimpleNamespace(
        time_zone="Europe/Berlin",
        working_hours={
            **{day: [["08:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [],
            "sun": [["10:00", "14:00"]],
        },
        holiday_country="",
        holiday_subdivision="",
        closures=["2026-03-30"],
        extra_working_days=[],
    )
)
STATUSES = ["in_progress", "pending:requester", "pending:vendor", "resolved", "in_progress", "pending:change"]

steps = st.lists(
    st.tuples(st.integers(min_value=1, max_value=600), st.sampled_from(STATUSES)), min_size=0, max_size=12
)


def history(raw):
    facts, minute = [], 0
    for gap, status in raw:
        minute += gap
        name, _, reason = status.partition(":")
        facts.append(Fact(START + timedelta(minutes=minute), "status", (name, reason)))
    return facts, minute


def oracle_minutes(facts, until: int, pause: set[str]) -> int:
    """Count, minute by minute, the business minutes the ticket was open and not paused."""
    status, reason, counted, index = "new", "", 0, 0
    for minute in range(until):
        moment = START + timedelta(minutes=minute)
        while index < len(facts) and facts[index].at <= moment:
            status, reason = facts[index].value
            index += 1
        running = status in ("new", "in_progress", "pending") and not (
            status == "pending" and reason in pause
        )
        if running and is_working(OFFICE, moment):
            counted += 1
    return counted


@settings(max_examples=120, deadline=None)
@given(steps, st.integers(min_value=1, max_value=3000))
def test_resolution_clock_counts_what_the_minute_oracle_counts(raw, target):
    facts, last = history(raw)
    spec = ClockSpec(kind=PolicyKind.SLA, metric=Metric.RESOLUTION, pause_reasons=frozenset({"requester"}))
    periods = periods_from_history(spec, START, facts)
    assert len(periods) == 1  # continue on reopen: one period
    (period,) = periods
    now = START + timedelta(minutes=last + 60)
    result = measure(
        segments=period.segments,
        final=period.final,
        stopped_at=period.stopped_at,
        target_minutes=target,
        schedule=OFFICE,
        thresholds=[50, 100],
        now=now,
    )
    used = result.elapsed_at(OFFICE, now) // 60
    assert used == oracle_minutes(facts, last + 60, {"requester"})
    # Segments tile the period in order, without gaps or overlaps.
    for before, after in zip(period.segments, period.segments[1:], strict=False):
        assert before[1] == after[0] and before[0] < before[1]
    if result.due_at is not None:
        # The due (or breach) time is the instant exactly the target has been used.
        assert used_by(period.segments, result.due_at) == target * 60
        assert (
            result.breached == (used_by(period.segments, now) > target * 60)
            or result.state == TimerState.RUNNING
        )


def used_by(segments, instant) -> int:
    """Business seconds counted by the running segments up to ``instant``."""
    return sum(
        business_seconds_between(OFFICE, start, min(end or instant, instant))
        for start, end, mode, _reason in segments
        if mode == "running" and start < instant
    )


@settings(max_examples=60, deadline=None)
@given(steps)
def test_restart_on_reopen_never_counts_time_before_the_reopen(raw):
    facts, _last = history(raw)
    spec = ClockSpec(kind=PolicyKind.SLA, metric=Metric.RESOLUTION, restart_on_reopen=True)
    periods = periods_from_history(spec, START, facts)
    reopens = sum(
        1
        for before, after in zip(
            [("new", "")] + [fact.value for fact in facts], [fact.value for fact in facts], strict=False
        )
        if before[0] == "resolved" and after[0] != "resolved"
    )
    assert len(periods) == 1 + reopens
    assert [period.cycle for period in periods] == list(range(1, len(periods) + 1))
    for earlier, later in itertools.pairwise(periods):
        assert earlier.final == "stopped" and earlier.segments[-1][1] <= later.started_at


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=30 * 24 * 60),
    st.lists(st.integers(min_value=0, max_value=20 * 8 * 3600), min_size=1, max_size=6),
)
def test_many_amounts_in_one_walk_equal_one_walk_each(offset_minutes, amounts):
    start = START + timedelta(minutes=offset_minutes)
    amounts = sorted(amounts)
    together = add_business_seconds_many(OFFICE, start, amounts)
    assert together == [add_business_seconds(OFFICE, start, amount) for amount in amounts]
