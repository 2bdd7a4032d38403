"""The SLA clock through the desk's own services, with the wall clock moved by time-machine:
pause and resume, a priority change mid-flight, reopen (continue and restart), a change of
policy, a calendar edit, the "no SLA" case, and business hours with a holiday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from opsdesk.accounts.choices import Role
from opsdesk.sla.choices import Metric, ReopenBehaviour, TicketSlaState, TimerState
from opsdesk.sla.models import SlaTimer
from opsdesk.sla.selectors import current_timers, timers_for_ticket
from opsdesk.sla.services import policy_save, timers_recompute, timers_retime
from opsdesk.tickets import services
from opsdesk.tickets.choices import Level, Status, TicketType
from opsdesk.tickets.models import Ticket
from tests.portfolio.factories import CalendarFactory
from tests.sla.conftest import T0, at
from tests.sla.factories import TargetFactory, policy_with_targets

pytestmark = pytest.mark.django_db


def timer(ticket: Ticket, metric: str = Metric.RESOLUTION, cycle: int | None = None) -> SlaTimer:
    timers = [item for item in timers_for_ticket(ticket) if item.metric == metric]
    return (
        max(timers, key=lambda item: item.cycle)
        if cycle is None
        else next(t for t in timers if t.cycle == cycle)
    )


def raise_ticket(requester, **fields) -> Ticket:
    with at(0):
        return services.ticket_create(actor=requester, title="Printer on fire", **fields)


def test_a_ticket_no_policy_covers_says_no_sla(requester):
    ticket = raise_ticket(requester)
    assert timers_for_ticket(ticket) == []
    ticket.refresh_from_db()
    assert ticket.sla_state == TicketSlaState.NONE and ticket.sla_due_at is None


def test_the_clock_starts_at_creation_and_shows_why_the_policy_applies(requester):
    policy_with_targets(name="Standard", first_response=60, resolution=240)
    ticket = raise_ticket(requester)
    first, resolution = current_timers(timers_for_ticket(ticket))
    assert (first.metric, first.state, first.due_at) == (
        Metric.FIRST_RESPONSE,
        TimerState.RUNNING,
        T0 + timedelta(hours=1),
    )
    assert resolution.due_at == T0 + timedelta(hours=4)
    assert resolution.reason == "Covers every ticket (no criteria)"
    ticket.refresh_from_db()
    assert ticket.sla_due_at == T0 + timedelta(hours=1) and ticket.sla_state == TicketSlaState.ON_TRACK


def test_the_first_public_reply_stops_first_response(requester, agent, desk):
    policy_with_targets()
    ticket = raise_ticket(requester)
    with at(20):
        services.ticket_reply(actor=agent, ticket=ticket, body="On it.")
    first = timer(ticket, Metric.FIRST_RESPONSE)
    assert first.state == TimerState.MET and first.elapsed_seconds == 20 * 60 and first.due_at is None
    assert timer(ticket).state == TimerState.RUNNING


def test_pending_on_the_requester_pauses_and_a_reply_resumes(requester, agent, desk):
    policy_with_targets(resolution=240)
    ticket = raise_ticket(requester)
    with at(30):
        services.ticket_assign(actor=agent, ticket=ticket, team=desk, assignee=agent)
    with at(60):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="requester")
    paused = timer(ticket)
    assert paused.state == TimerState.PAUSED and paused.elapsed_seconds == 3600 and paused.due_at is None
    ticket.refresh_from_db()
    with at(180):  # two hours paused
        services.ticket_reply(actor=requester, ticket=ticket, body="Here is the log.")
    resumed = timer(ticket)
    assert resumed.state == TimerState.RUNNING
    assert resumed.due_at == T0 + timedelta(minutes=180 + 180)  # 60 used, 180 left
    assert resumed.paused_seconds == 2 * 3600
    modes = [segment[2] for segment in resumed.segments]
    assert modes == ["running", "paused", "running"]


def test_pending_on_a_vendor_does_not_pause_by_default(requester, agent, desk):
    policy_with_targets(resolution=240)
    ticket = raise_ticket(requester)
    with at(10):
        services.ticket_assign(actor=agent, ticket=ticket, team=desk)
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="vendor")
    assert timer(ticket).state == TimerState.RUNNING and timer(ticket).due_at == T0 + timedelta(hours=4)


def test_a_priority_change_keeps_the_time_elapsed_and_applies_the_new_target(requester, agent, desk):
    policy = policy_with_targets(resolution=480)
    TargetFactory(policy=policy, metric=Metric.RESOLUTION, priority=1, minutes=120)
    ticket = raise_ticket(requester)  # P5
    assert timer(ticket).due_at == T0 + timedelta(hours=8)
    with at(90):
        services.ticket_update(actor=agent, ticket=ticket, data={"impact": Level.HIGH, "urgency": Level.HIGH})
    ticket.refresh_from_db()
    assert ticket.priority == 1
    changed = timer(ticket)
    assert changed.target_minutes == 120 and changed.due_at == T0 + timedelta(minutes=120)
    with at(150):  # past the new target: the breach time is when 120 minutes were used
        services.ticket_update(actor=agent, ticket=ticket, data={"title": "Printer on fire, floor 3"})
    late = timer(ticket)
    assert late.breached and late.breached_at == T0 + timedelta(minutes=120)


def test_reopen_continues_by_default(requester, agent, desk):
    policy_with_targets(resolution=240)
    ticket = raise_ticket(requester)
    with at(10):
        services.ticket_assign(actor=agent, ticket=ticket, team=desk)
    with at(60):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    assert timer(ticket).state == TimerState.MET
    with at(300):
        services.ticket_transition(actor=requester, ticket=ticket, to=Status.IN_PROGRESS)
    reopened = timer(ticket)
    assert reopened.cycle == 1 and reopened.state == TimerState.RUNNING
    assert reopened.due_at == T0 + timedelta(minutes=300 + 180)
    assert [segment[2] for segment in reopened.segments] == ["running", "stopped", "running"]


def test_reopen_restarts_when_the_policy_says_so(requester, agent, desk):
    policy_with_targets(resolution=240, on_reopen=ReopenBehaviour.RESTART)
    ticket = raise_ticket(requester)
    with at(10):
        services.ticket_assign(actor=agent, ticket=ticket, team=desk)
    with at(60):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    with at(300):
        services.ticket_transition(actor=requester, ticket=ticket, to=Status.IN_PROGRESS)
    assert timer(ticket, cycle=1).state == TimerState.MET
    second = timer(ticket)
    assert second.cycle == 2 and second.due_at == T0 + timedelta(minutes=300 + 240)


def test_business_hours_and_a_holiday_count_only_working_minutes(requester):
    calendar = CalendarFactory(
        time_zone="Europe/Berlin",
        working_hours={
            "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
            "tue": [["08:00", "17:00"]],
            "wed": [["08:00", "17:00"]],
            "thu": [["08:00", "17:00"]],
            "fri": [["08:00", "17:00"]],
            "sat": [],
            "sun": [],
        },
        closures=["2026-03-03"],
    )
    policy_with_targets(calendar=calendar, first_response=0, resolution=8 * 60)
    # Monday 10:00 Berlin: 2h to 12:00, 4h 13:00–17:00, Tuesday closed, 2h on Wednesday.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        ticket = services.ticket_create(actor=requester, title="VPN")
    assert timer(ticket).due_at == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # Wednesday 10:00 Berlin


def test_a_calendar_edit_retimes_open_timers_keeping_what_was_counted(requester):
    policy = policy_with_targets(first_response=0, resolution=24 * 60)
    ticket = raise_ticket(requester)
    assert timer(ticket).due_at == T0 + timedelta(days=1)
    calendar = policy.calendar
    calendar.working_hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
        "sat": [],
        "sun": [],
    }
    calendar.save()
    with at(60):
        assert timers_retime(calendar_id=calendar.pk) == 1
    # 24 business hours of 8-hour days from Monday 09:00 UTC: Wednesday 17:00... three days.
    assert timer(ticket).due_at == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)  # the queues follow


def test_a_policy_change_keeps_elapsed_time(requester, agent):
    ticket = raise_ticket(requester, type=TicketType.INCIDENT)
    assert timers_for_ticket(ticket) == []
    manager = agent
    manager.role = Role.MANAGER
    manager.save()
    policy = policy_with_targets(first_response=0, resolution=240, is_active=False)
    with at(100):
        policy_save(actor=manager, policy=policy, data={"is_active": True})
        timers_recompute(ticket=ticket)
    covered = timer(ticket)
    # Timed from the ticket's creation, not from the moment the policy arrived.
    assert covered.due_at == T0 + timedelta(hours=4) and covered.started_at == T0


def test_cancelling_cancels_the_clock(requester):
    policy_with_targets()
    ticket = raise_ticket(requester)
    with at(5):
        services.ticket_transition(actor=requester, ticket=ticket, to=Status.CANCELLED)
    assert {item.state for item in timers_for_ticket(ticket)} == {TimerState.CANCELLED}
