"""Escalation: by hand with a reason or by rules, functional (to the next team) and
hierarchical (the lead, then management), along the matrix of each service and priority;
the periodic sweep fires each rule once per ticket and costs the same whatever is open."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opsdesk.accounts.choices import Role, Tier
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.scheduler import _registered
from opsdesk.tickets import conditions, services
from opsdesk.tickets.choices import EscalationKind, EventKind, Status
from opsdesk.tickets.models import EscalationMatrixStep, EscalationRecord, EscalationRule, Ticket
from opsdesk.tickets.selectors import escalated_tickets_for, escalation_figures, escalation_list_for
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory
from tests.portfolio.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(role=Role.MANAGER, username="boss", email="boss@example.com")


@pytest.fixture
def lead(make_user):
    return make_user(role=Role.TEAM_LEAD, username="lead", email="lead@example.com")


@pytest.fixture
def agent(make_user):
    return make_user(role=Role.AGENT)


@pytest.fixture
def requester(make_user):
    return make_user()


@pytest.fixture
def desk(lead):
    return TeamFactory(name="Service desk", tier=Tier.L1, lead=lead)


@pytest.fixture
def specialists():
    return TeamFactory(name="Mail specialists", tier=Tier.L2)


@pytest.fixture
def mail(desk, specialists):
    service = ServiceFactory(name="Mail")
    service.escalation_teams.set([desk, specialists, TeamFactory(name="Mail engineering", tier=Tier.L3)])
    return service


def open_ticket(requester, agent, team, **fields):
    ticket = services.ticket_create(actor=requester, title="Mail is slow", **fields)
    return services.ticket_assign(actor=agent, ticket=ticket, team=team)


def escalation_rule(manager, name, conditions_, kind=EscalationKind.FUNCTIONAL, **extra):
    return services.escalation_rule_save(
        actor=manager, data={"name": name, "kind": kind, "conditions": conditions_, **extra}
    )


def age(ticket, minutes):
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )


# --- by hand --------------------------------------------------------------------------


def test_a_functional_escalation_moves_the_ticket_to_the_services_next_tier(
    agent, requester, desk, specialists, mail
):
    ticket = open_ticket(requester, agent, desk, service=mail)
    record = services.ticket_escalate(actor=agent, ticket=ticket, reason="Needs mailbox database access")
    assert (ticket.assigned_team, ticket.tier, ticket.escalation_level) == (specialists, Tier.L2, 1)
    assert (record.from_team, record.to_team, record.actor, record.level) == (desk, specialists, agent, 1)
    event = ticket.events.get(kind=EventKind.ESCALATION)
    assert event.body == "Needs mailbox database access" and event.data["trigger"] == "manual"
    assert event.data["changes"]["team"] == [desk.pk, specialists.pk]
    services.ticket_escalate(actor=agent, ticket=ticket, reason="Still stuck")
    assert (ticket.assigned_team.name, ticket.escalation_level) == ("Mail engineering", 2)


def test_an_escalation_needs_a_reason_an_agent_and_an_open_ticket(agent, requester, desk, specialists, mail):
    ticket = open_ticket(requester, agent, desk, service=mail)
    with pytest.raises(ServiceError) as refused:
        services.ticket_escalate(actor=agent, ticket=ticket, reason=" ")
    assert refused.value.field == "reason"
    with pytest.raises(NotAllowed):
        services.ticket_escalate(actor=requester, ticket=ticket, reason="Hurry up")
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.CANCELLED)
    with pytest.raises(ServiceError, match="open tickets"):
        services.ticket_escalate(actor=agent, ticket=ticket, reason="Late")


def test_without_a_next_team_an_agent_names_one(agent, requester, desk, specialists):
    ticket = open_ticket(requester, agent, desk)
    with pytest.raises(ServiceError) as refused:
        services.ticket_escalate(actor=agent, ticket=ticket, reason="Beyond us")
    assert refused.value.field == "team"
    services.ticket_escalate(actor=agent, ticket=ticket, reason="Beyond us", team=specialists)
    assert ticket.assigned_team == specialists


def test_a_hierarchical_escalation_tells_the_lead_then_the_managers_and_keeps_the_team(
    agent, requester, desk, lead, manager
):
    ticket = open_ticket(requester, agent, desk)
    first = services.ticket_escalate(actor=agent, ticket=ticket, reason="Angry customer", kind="hierarchical")
    second = services.ticket_escalate(actor=agent, ticket=ticket, reason="Still angry", kind="hierarchical")
    assert list(first.notified.all()) == [lead] and list(second.notified.all()) == [manager]
    assert ticket.assigned_team == desk and ticket.escalation_level == 2


# --- the matrix -----------------------------------------------------------------------


def test_the_most_specific_matrix_path_decides(manager, agent, requester, desk, specialists, mail):
    war_room = TeamFactory(name="War room", tier=Tier.L3)
    cio = manager
    services.escalation_step_save(actor=manager, data={"level": 1, "team": specialists})
    services.escalation_step_save(
        actor=manager,
        data={"service": mail, "priority": 1, "level": 1, "team": war_room, "notify_users": [cio]},
    )
    critical = open_ticket(requester, agent, desk, service=mail, impact=1, urgency=1)
    routine = open_ticket(requester, agent, desk, service=mail)
    first = services.ticket_escalate(actor=agent, ticket=critical, reason="P1")
    services.ticket_escalate(actor=agent, ticket=routine, reason="Slow")
    assert (critical.assigned_team, list(first.notified.all())) == (war_room, [cio])
    assert first.step.service == mail and routine.assigned_team == specialists


def test_matrix_steps_are_checked_when_saved(manager, agent, requester):
    with pytest.raises(ServiceError) as refused:
        services.escalation_step_save(actor=manager, data={"level": 1})
    assert refused.value.field == "team"
    with pytest.raises(ServiceError) as refused:
        services.escalation_step_save(actor=manager, data={"level": 1, "notify_users": [requester]})
    assert refused.value.field == "notify_users"
    with pytest.raises(ServiceError) as refused:
        services.escalation_step_save(actor=manager, data={"level": 0, "notify_team_lead": True})
    assert refused.value.field == "level"
    with pytest.raises(NotAllowed):
        services.escalation_step_save(actor=agent, data={"level": 1, "notify_team_lead": True})
    services.escalation_step_save(actor=manager, data={"level": 1, "notify_team_lead": True})
    with pytest.raises(ServiceError):
        services.escalation_step_save(actor=manager, data={"level": 1, "notify_team_lead": True})
    assert EscalationMatrixStep.objects.count() == 1


# --- rules ----------------------------------------------------------------------------


def test_a_p1_or_a_vips_ticket_escalates_the_moment_it_is_created(manager, make_user, desk, lead):
    escalation_rule(manager, "P1 created", [{"name": "priority", "params": {"in": [1]}}], kind="hierarchical")
    escalation_rule(manager, "VIP", [{"name": "vip_requester"}], kind="hierarchical")
    outage = services.ticket_create(actor=make_user(), title="Down", impact=1, urgency=1)
    vip = services.ticket_create(actor=make_user(organization=OrganizationFactory(is_vip=True)), title="Slow")
    plain = services.ticket_create(actor=make_user(), title="Slow")
    assert (outage.escalation_level, vip.escalation_level, plain.escalation_level) == (1, 1, 0)
    event = outage.events.get(kind=EventKind.ESCALATION)
    assert event.data["rule"]["name"] == "P1 created" and event.data["trigger"] == "rule"


def test_the_sweep_escalates_what_waited_too_long_and_never_fires_a_rule_twice(
    manager, agent, requester, desk, specialists, mail
):
    rule = escalation_rule(
        manager, "No response in 30 min", [{"name": "no_first_response_minutes", "params": {"minutes": 30}}]
    )
    waiting = open_ticket(requester, agent, desk, service=mail)
    answered = open_ticket(requester, agent, desk, service=mail)
    fresh = open_ticket(requester, agent, desk, service=mail)
    services.ticket_reply(actor=agent, ticket=answered, body="On it")
    age(waiting, 45), age(answered, 45), age(fresh, 10)
    assert services.escalation_sweep() == 1
    assert services.escalation_sweep() == 0
    waiting.refresh_from_db()
    assert (waiting.escalation_level, waiting.assigned_team) == (1, specialists)
    assert list(EscalationRecord.objects.values_list("ticket", "rule")) == [(waiting.pk, rule.pk)]


def test_unresolved_and_reopened_rules(manager, agent, requester, desk):
    escalation_rule(
        manager,
        "Unresolved 4h",
        [{"name": "unresolved_minutes", "params": {"minutes": 240}}],
        kind="hierarchical",
    )
    escalation_rule(
        manager, "Reopened twice", [{"name": "reopened_times", "params": {"times": 2}}], kind="hierarchical"
    )
    stale = open_ticket(requester, agent, desk)
    age(stale, 300)
    bouncing = open_ticket(requester, agent, desk)
    for _ in range(2):
        services.ticket_transition(actor=agent, ticket=bouncing, to=Status.RESOLVED, resolution_code="solved")
        services.ticket_transition(actor=requester, ticket=bouncing, to=Status.IN_PROGRESS)
    assert services.escalation_sweep() == 2
    names = {record.ticket_id: record.rule.name for record in EscalationRecord.objects.all()}
    assert names == {stale.pk: "Unresolved 4h", bouncing.pk: "Reopened twice"}


def test_one_sweep_escalates_a_ticket_once_the_next_rule_waits_for_the_next_sweep(
    manager, agent, requester, desk
):
    escalation_rule(
        manager,
        "30 min",
        [{"name": "unresolved_minutes", "params": {"minutes": 30}}],
        kind="hierarchical",
        position=1,
    )
    escalation_rule(
        manager,
        "60 min",
        [{"name": "unresolved_minutes", "params": {"minutes": 60}}],
        kind="hierarchical",
        position=2,
    )
    ticket = open_ticket(requester, agent, desk)
    age(ticket, 90)
    assert services.escalation_sweep() == 1
    assert services.escalation_sweep() == 1
    assert services.escalation_sweep() == 0
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2


@pytest.mark.parametrize(
    ("conditions_", "field"),
    [
        ([], "conditions"),
        ([{"name": "sunspots"}], "conditions[0].name"),
        ([{"name": "unresolved_minutes", "params": {"minutes": -5}}], "conditions[0].params.minutes"),
        ([{"name": "reopened_times", "params": {"times": "often"}}], "conditions[0].params.times"),
    ],
)
def test_escalation_rules_are_checked_when_saved(manager, conditions_, field):
    with pytest.raises(ServiceError) as refused:
        escalation_rule(manager, "Bad", conditions_)
    assert refused.value.field == field and not EscalationRule.objects.exists()


def test_only_managers_edit_escalation_rules(agent, manager):
    with pytest.raises(NotAllowed):
        escalation_rule(agent, "Mine", [{"name": "vip_requester"}])
    made = escalation_rule(manager, "VIP", [{"name": "vip_requester"}])
    assert list(EscalationRule.objects.restrict(agent, "view")) == [made]


def test_a_condition_another_app_registers_plugs_into_rules_and_the_sweep(manager, agent, requester, desk):
    """How the SLA app adds ``sla_breach_in_minutes`` without touching the engine."""
    overdue_titles = {"Payroll run failed"}
    conditions.register_condition(
        "sla_breach_in_minutes",
        label="SLA breaches within (minutes)",
        params={"minutes": conditions.Param(conditions.whole_number(minimum=0, maximum=10_000))},
        test=lambda ticket, params, now: ticket.title in overdue_titles,
    )
    try:
        with pytest.raises(ServiceError) as refused:
            escalation_rule(manager, "SLA", [{"name": "sla_breach_in_minutes", "params": {}}])
        assert refused.value.field == "conditions[0].params.minutes"
        escalation_rule(
            manager,
            "SLA",
            [{"name": "sla_breach_in_minutes", "params": {"minutes": 15}}],
            kind="hierarchical",
        )
        due = open_ticket(requester, agent, desk)
        Ticket.objects.filter(pk=due.pk).update(title="Payroll run failed")
        open_ticket(requester, agent, desk)
        assert services.escalation_sweep() == 1
    finally:
        conditions._registry.pop("sla_breach_in_minutes")


def test_the_sweep_costs_the_same_queries_however_many_tickets_are_open(manager, agent, requester, desk):
    escalation_rule(
        manager,
        "No response",
        [{"name": "no_first_response_minutes", "params": {"minutes": 30}}],
        kind="hierarchical",
    )
    escalation_rule(manager, "Reopened", [{"name": "reopened_times", "params": {"times": 3}}])

    def sweep_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            services.escalation_sweep()
        return len(captured)

    for _ in range(3):
        open_ticket(requester, agent, desk)
    few = sweep_queries()
    for _ in range(30):
        open_ticket(requester, agent, desk)
    assert sweep_queries() == few <= 4

    def escalating(count: int) -> int:
        for _ in range(count):
            age(open_ticket(requester, agent, desk), 60)
        return sweep_queries()

    two, four, six = escalating(2), escalating(4), escalating(6)
    per_ticket = (six - four) // 2
    assert six - four == four - two == 2 * per_ticket  # a fixed price per escalation
    # The escalation itself (about 10) and the rewrite of the ticket's search document (5: the
    # ticket, its events, its watchers — who may read it — and the write).
    assert per_ticket <= 15


def test_the_sweep_runs_every_minute_as_a_scheduled_task():
    spec = _registered["ticket-escalation-sweep"]
    assert (spec.task, spec.cron) == ("opsdesk.tickets.tasks.sweep_escalations", "* * * * *")


# --- lists and figures ----------------------------------------------------------------


def test_escalations_are_listed_and_counted(manager, agent, requester, desk, specialists, mail):
    escalation_rule(manager, "P1", [{"name": "priority", "params": {"in": [1]}}], kind="hierarchical")
    hot = services.ticket_create(actor=requester, title="Down", impact=1, urgency=1)
    moved = open_ticket(requester, agent, desk, service=mail)
    services.ticket_escalate(actor=agent, ticket=moved, reason="Specialists needed")
    open_ticket(requester, agent, desk)
    assert [record.ticket for record in escalation_list_for(user=agent)] == [moved, hot]
    assert [record.ticket for record in escalation_list_for(user=agent, kind="functional")] == [moved]
    assert set(escalated_tickets_for(user=agent)) == {hot, moved}
    assert not escalation_list_for(user=requester).exists()
    figures = escalation_figures(user=agent, since=timezone.now() - datetime.timedelta(hours=1))
    assert figures["total"] == 2 and figures["by_kind"] == {"functional": 1, "hierarchical": 1}
    assert figures["by_trigger"] == {"manual": 1, "rule": 1}
    assert figures["by_rule"] == [("P1", 1)] and figures["by_team"] == [("Mail specialists", 1)]
    assert (figures["tickets_created"], figures["escalation_rate"], figures["open_escalated"]) == (
        3,
        0.667,
        2,
    )


# --- notices by e-mail ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_lead_and_then_the_manager_get_an_email_from_the_worker(smtp_server, make_user):
    from tests.core.test_jobs_and_scheduler import run_queued_tasks

    lead = make_user(role=Role.TEAM_LEAD, email="lead@example.com")
    boss = make_user(role=Role.MANAGER, email="boss@example.com")
    agent, requester = make_user(role=Role.AGENT), make_user()
    desk = TeamFactory(lead=lead)
    TeamMembershipFactory(team=desk, user=agent)
    rule = escalation_rule(
        boss,
        "Unresolved 1h",
        [{"name": "unresolved_minutes", "params": {"minutes": 60}}],
        kind="hierarchical",
    )
    ticket = open_ticket(requester, agent, desk)
    age(ticket, 90)
    from opsdesk.tickets.tasks import sweep_escalations

    sweep_escalations.enqueue()
    run_queued_tasks()  # the sweep escalates and enqueues the notice
    run_queued_tasks()  # the notice goes out
    services.ticket_escalate(
        actor=agent, ticket=Ticket.objects.get(pk=ticket.pk), reason="Customer calling", kind="hierarchical"
    )
    run_queued_tasks()
    assert [message["X-Envelope-To"] for message in smtp_server.messages] == [
        "lead@example.com",
        "boss@example.com",
    ]
    first, second = smtp_server.messages
    assert first["Subject"] == f"[{ticket.number}] escalated to level 1: Mail is slow"
    assert f"Rule: {rule.name}" in first.get_content()
    assert "Reason: Customer calling" in second.get_content()
    assert not EscalationRecord.objects.filter(notified_at__isnull=True).exists()
    run_queued_tasks()
    assert len(smtp_server.messages) == 2
