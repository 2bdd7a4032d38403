"""Warnings and breaches (each once, never early, also with two sweeps at once, and through the
escalation rules), and the clocks of OLAs, UCs and next response."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from opsdesk.accounts.choices import Role
from opsdesk.sla.choices import Metric, PolicyKind, TicketSlaState, TimerState
from opsdesk.sla.models import SlaAlert, SlaTimer
from opsdesk.sla.selectors import timers_for_ticket
from opsdesk.sla.services import sla_sweep
from opsdesk.tickets import services
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.models import EscalationRecord, EscalationRule, Ticket
from tests.accounts.factories import TeamFactory, TeamMembershipFactory
from tests.portfolio.factories import ProviderFactory, ServiceFactory
from tests.sla.conftest import at, now_plus
from tests.sla.factories import PolicyFactory, TargetFactory, policy_with_targets


def raise_ticket(requester, **fields) -> Ticket:
    with at(0):
        return services.ticket_create(actor=requester, title="Mail down", **fields)


def timers(ticket, **filters):
    return [
        timer
        for timer in timers_for_ticket(ticket)
        if all(getattr(timer, k) == v for k, v in filters.items())
    ]


@pytest.mark.django_db
class TestSweep:
    def test_thresholds_fire_once_each_and_never_early(self, requester):
        policy_with_targets(first_response=0, resolution=100, thresholds=[50, 75, 90, 100])
        ticket = raise_ticket(requester)
        assert sla_sweep(now=now_plus(49)) == 0  # 49 % used: nothing yet
        assert sla_sweep(now=now_plus(50)) == 1
        assert sla_sweep(now=now_plus(50)) == 0  # already recorded
        assert sla_sweep(now=now_plus(95)) == 2  # 75 and 90 at once, one timeline entry
        ticket.refresh_from_db()
        assert ticket.sla_state == TicketSlaState.WARNING
        assert sla_sweep(now=now_plus(100)) == 1
        alerts = list(SlaAlert.objects.order_by("percent").values_list("percent", "reached_at"))
        assert alerts == [(50, now_plus(50)), (75, now_plus(75)), (90, now_plus(90)), (100, now_plus(100))]
        ticket.refresh_from_db()
        assert ticket.sla_state == TicketSlaState.BREACHED
        (resolution,) = timers(ticket)
        assert (
            resolution.breached
            and resolution.breached_at == now_plus(100)
            and resolution.next_alert_at is None
        )
        notes = ticket.events.filter(kind=EventKind.SLA).values_list("body", flat=True)
        assert len(notes) == 3 and "breached" in notes[2]

    def test_a_paused_clock_does_not_warn(self, requester, agent, desk):
        policy_with_targets(first_response=0, resolution=100)
        ticket = raise_ticket(requester)
        with at(10):
            services.ticket_assign(actor=agent, ticket=ticket, team=desk)
            services.ticket_transition(
                actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="requester"
            )
        assert sla_sweep(now=now_plus(500)) == 0
        assert SlaTimer.objects.get().next_alert_at is None

    def test_an_sla_threshold_rule_escalates_and_raises_the_priority(self, requester, agent, desk, make_user):
        make_user(role=Role.MANAGER, username="boss")
        policy_with_targets(first_response=0, resolution=100)
        EscalationRule.objects.create(
            name="75 % of resolution used",
            kind="hierarchical",
            raise_priority=True,
            conditions=[{"name": "sla_threshold", "params": {"percent": 75, "metric": ["resolution"]}}],
        )
        ticket = raise_ticket(requester)
        with at(5):
            services.ticket_assign(actor=agent, ticket=ticket, team=desk)
        sla_sweep(now=now_plus(60))  # 50 %: the rule does not hold yet
        assert not EscalationRecord.objects.exists()
        sla_sweep(now=now_plus(76))
        record = EscalationRecord.objects.get()
        ticket.refresh_from_db()
        assert record.rule.name == "75 % of resolution used" and ticket.priority == 4  # P5 → P4
        sla_sweep(now=now_plus(91))
        assert EscalationRecord.objects.count() == 1  # a rule fires once per ticket

    def test_breach_within_condition_uses_the_due_time(self, requester, agent, desk):
        policy_with_targets(first_response=0, resolution=100)
        rule = EscalationRule.objects.create(
            name="About to breach",
            kind="hierarchical",
            conditions=[{"name": "sla_breach_within", "params": {"minutes": 15}}],
        )
        ticket = raise_ticket(requester)
        with at(5):
            services.ticket_assign(actor=agent, ticket=ticket, team=desk)
        assert services.escalation_sweep(now=now_plus(80)) == 0
        assert services.escalation_sweep(now=now_plus(85)) == 1
        assert EscalationRecord.objects.get().rule == rule


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_record_each_threshold_once(requester):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("two connections need a file or server database")
    policy_with_targets(first_response=0, resolution=100)
    for _ in range(5):
        raise_ticket(requester)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            counts.append(sla_sweep(now=now_plus(120)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Five tickets × four thresholds, recorded once whoever won each.
    assert sum(counts) == 20 and SlaAlert.objects.count() == 20


@pytest.mark.django_db
class TestKinds:
    def test_ola_times_each_assignment_to_its_team(self, requester, agent, desk, make_user):
        network = TeamFactory(name="Network")
        TeamMembershipFactory(team=network, user=make_user(role=Role.AGENT, username="net"))
        policy = PolicyFactory(name="Network OLA", kind=PolicyKind.OLA, team=network)
        TargetFactory(policy=policy, metric=Metric.RESOLUTION, minutes=60)
        ticket = raise_ticket(requester)
        assert timers(ticket) == []
        with at(10):
            services.ticket_assign(actor=agent, ticket=ticket, team=network)
        (first,) = timers(ticket)
        assert first.due_at == now_plus(70) and first.team == network
        with at(40):
            services.ticket_assign(actor=agent, ticket=ticket, team=desk)
        with at(100):
            services.ticket_assign(actor=agent, ticket=ticket, team=network)
        first, second = timers(ticket)
        assert (first.state, first.elapsed_seconds) == (TimerState.MET, 30 * 60)
        assert (second.cycle, second.state, second.due_at) == (2, TimerState.RUNNING, now_plus(160))

    def test_uc_times_the_wait_on_the_provider_of_the_service(self, requester, agent, desk):
        service = ServiceFactory(name="Mail")
        provider = ProviderFactory(name="MailCorp")
        provider.services.add(service)
        policy = PolicyFactory(name="MailCorp UC", kind=PolicyKind.UC, provider=provider)
        TargetFactory(policy=policy, metric=Metric.RESOLUTION, minutes=120)
        ticket = raise_ticket(requester, service=service)
        with at(10):
            services.ticket_assign(actor=agent, ticket=ticket, team=desk)
        with at(20):
            services.ticket_transition(actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="vendor")
        (wait,) = timers(ticket)
        assert (wait.kind, wait.state, wait.due_at) == (PolicyKind.UC, TimerState.RUNNING, now_plus(140))
        with at(200):
            services.ticket_transition(actor=agent, ticket=ticket, to=Status.IN_PROGRESS)
        (wait,) = timers(ticket)
        assert wait.state == TimerState.BREACHED and wait.breached_at == now_plus(140)

    def test_next_response_runs_from_each_requester_message(self, requester, agent, desk):
        policy = policy_with_targets(first_response=30, resolution=0)
        TargetFactory(policy=policy, metric=Metric.NEXT_RESPONSE, minutes=60)
        ticket = raise_ticket(requester)
        with at(10):
            services.ticket_reply(actor=agent, ticket=ticket, body="Which client?")
        assert timers(ticket, metric=Metric.NEXT_RESPONSE) == []
        with at(20):
            services.ticket_reply(actor=requester, ticket=ticket, body="Outlook.")
        (waiting,) = timers(ticket, metric=Metric.NEXT_RESPONSE)
        assert waiting.due_at == now_plus(80)
        with at(50):
            services.ticket_reply(actor=agent, ticket=ticket, body="Try this.")
        with at(60):
            services.ticket_reply(actor=requester, ticket=ticket, body="No luck.")
        first, second = timers(ticket, metric=Metric.NEXT_RESPONSE)
        assert first.state == TimerState.MET and first.elapsed_seconds == 30 * 60
        assert second.cycle == 2 and second.due_at == now_plus(120)

    def test_the_most_specific_policy_wins_and_says_so(self, requester, organization):
        service = ServiceFactory(name="Payroll")
        general = policy_with_targets(name="Standard", resolution=480)
        specific = policy_with_targets(name="Payroll gold", resolution=120)
        specific.services.add(service)
        specific.organizations.add(organization)
        requester.organization = organization
        requester.save()
        ticket = raise_ticket(requester, service=service)
        (resolution,) = timers(ticket, metric=Metric.RESOLUTION)
        assert resolution.policy == specific
        assert resolution.reason == (
            f"Matches service Payroll, organisation {organization.name}; more specific than Standard"
        )
        other = raise_ticket(requester)
        assert timers(other, metric=Metric.RESOLUTION)[0].policy == general
