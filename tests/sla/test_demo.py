"""The demo's service levels: four policies of the three kinds, every demo ticket timed from its
own history (closed ones met or breached, open ones with a due time in the queues), once."""

from __future__ import annotations

import pytest
from django.db.models import Count

from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel
from opsdesk.sla.choices import PolicyKind, TicketSlaState, TimerState
from opsdesk.sla.models import SlaPolicy, SlaTimer
from opsdesk.sla.services import tickets_sla_refresh
from opsdesk.tickets.choices import OPEN_STATUSES
from opsdesk.tickets.models import Ticket
from opsdesk.web.demo import people, portfolio, sla, tickets


@pytest.fixture
def demo(db):
    with acting(channel=Channel.CLI):
        admin = people.load_admin()
        with acting(actor=admin):
            people.load_people(admin)
            portfolio.load_portfolio(admin)
            tickets.load_tickets(admin, count=200, days=30, service_days=3)
            timed = sla.load_service_levels(admin)
    return admin, timed


def test_every_demo_ticket_is_timed_against_the_demo_policies(demo):
    admin, timed = demo
    assert timed == Ticket.objects.count()
    assert set(SlaPolicy.objects.values_list("kind", flat=True)) == {
        PolicyKind.SLA,
        PolicyKind.OLA,
        PolicyKind.UC,
    }
    states = dict(SlaTimer.objects.filter(kind=PolicyKind.SLA).values_list("state").annotate(n=Count("id")))
    assert states.get(TimerState.MET, 0) > 0 and states.get(TimerState.BREACHED, 0) > 0
    # Every ticket has its SLA (the standard policy covers everything).
    assert not Ticket.objects.exclude(sla_timers__kind=PolicyKind.SLA).exists()
    open_states = set(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("sla_state", flat=True))
    assert open_states and TicketSlaState.NONE not in open_states
    with acting(actor=admin):
        assert sla.load_service_levels(admin) == 0  # idempotent


def test_the_batch_summary_agrees_with_the_clock_on_every_demo_ticket(demo):
    # The clock writes each ticket's summary from its timers in memory; re-timing and the sweep
    # rewrite it from the stored rows in batches. Both must say the same for a year of varied tickets.
    before = dict(Ticket.objects.values_list("pk", "sla_state"))
    due_before = dict(Ticket.objects.values_list("pk", "sla_due_at"))
    Ticket.objects.update(sla_state="", sla_due_at=None)
    tickets_sla_refresh(list(before))
    assert dict(Ticket.objects.values_list("pk", "sla_state")) == before
    assert dict(Ticket.objects.values_list("pk", "sla_due_at")) == due_before
