"""Routing rules: what an admin writes in the rule editor decides where new tickets go, and
the timeline says which rule decided."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets import services
from opsdesk.tickets.choices import AssignmentStrategy, EventKind, Status
from opsdesk.tickets.models import Category, RoutingRule, TeamQueueSettings
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory
from tests.portfolio.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(role=Role.MANAGER)


@pytest.fixture
def agent(make_user):
    return make_user(role=Role.AGENT)


@pytest.fixture
def requester(make_user):
    return make_user()


@pytest.fixture
def network_team():
    return TeamFactory(name="Network")


def rule(manager, name, conditions, actions, **extra):
    return services.routing_rule_save(
        actor=manager, data={"name": name, "conditions": conditions, "actions": actions, **extra}
    )


def test_a_matching_rule_sets_team_priority_category_and_tags_and_the_timeline_names_it(
    manager, requester, network_team
):
    vpn = Category.objects.create(name="VPN")
    made = rule(
        manager,
        "VPN trouble to Network",
        [{"name": "words", "params": {"any": ["VPN", "tunnel"]}}],
        {"team": network_team.pk, "priority": 2, "category": vpn.pk, "tags": ["VPN", "remote"]},
    )
    ticket = services.ticket_create(actor=requester, title="My vpn drops every hour")
    assert (ticket.assigned_team, ticket.priority, ticket.category) == (network_team, 2, vpn)
    assert ticket.tags == ["remote", "vpn"] and ticket.status == Status.ASSIGNED
    event = ticket.events.get(kind=EventKind.ROUTING)
    assert event.data["rule"] == {"id": made.pk, "name": "VPN trouble to Network"}
    assert event.data["changes"]["team"] == [None, network_team.pk]
    assert event.author is None  # the desk decided, not the requester


def test_words_match_whole_words_in_title_or_description(manager, requester, network_team):
    rule(manager, "VPN", [{"name": "words", "params": {"any": ["vpn"]}}], {"team": network_team.pk})
    in_description = services.ticket_create(
        actor=requester, title="Cannot connect", description="The VPN says no"
    )
    lookalike = services.ticket_create(actor=requester, title="vpnclient.exe crashed")
    assert in_description.assigned_team == network_team
    assert lookalike.assigned_team is None and not lookalike.events.filter(kind=EventKind.ROUTING).exists()


def test_rules_are_tried_in_order_and_a_match_stops_the_rest_unless_told_to_continue(
    manager, requester, network_team
):
    desk = TeamFactory(name="Desk")
    rule(
        manager,
        "Tag e-mail",
        [{"name": "channel", "params": {"in": ["email"]}}],
        {"tags": ["mail"]},
        position=1,
        stop_processing=False,
    )
    rule(manager, "Everything else to the desk", [], {"team": desk.pk}, position=3)
    rule(
        manager,
        "E-mail to network",
        [{"name": "channel", "params": {"in": ["email"]}}],
        {"team": network_team.pk},
        position=2,
    )
    mailed = services.ticket_create(actor=requester, title="Hello", channel="email")
    portal = services.ticket_create(actor=requester, title="Hello")
    assert (mailed.assigned_team, mailed.tags) == (network_team, ["mail"])
    assert [event.data["rule"]["name"] for event in mailed.events.filter(kind=EventKind.ROUTING)] == [
        "Tag e-mail",
        "E-mail to network",
    ]
    assert portal.assigned_team == desk


def test_vip_organisation_service_category_and_type_conditions(manager, make_user, network_team):
    vip_org = OrganizationFactory(is_vip=True)
    mail = ServiceFactory(name="Mail")
    hardware = Category.objects.create(name="Hardware")
    laptop = Category.objects.create(name="Laptop", parent=hardware)
    rule(
        manager,
        "VIP hardware incidents on mail",
        [
            {"name": "vip_requester"},
            {"name": "organization", "params": {"in": [vip_org.pk]}},
            {"name": "service", "params": {"in": [mail.pk]}},
            {"name": "category", "params": {"in": [hardware.pk]}},
            {"name": "ticket_type", "params": {"in": ["incident"]}},
        ],
        {"team": network_team.pk, "priority": 1},
    )
    boss = make_user(organization=vip_org)
    routed = services.ticket_create(actor=boss, title="x", service=mail, category=laptop)
    other_type = services.ticket_create(actor=boss, title="x", service=mail, category=laptop, type="request")
    not_vip = services.ticket_create(actor=make_user(), title="x", service=mail, category=laptop)
    assert (routed.assigned_team, routed.priority) == (network_team, 1)
    assert other_type.assigned_team is None and not_vip.assigned_team is None


def test_an_inactive_rule_never_fires(manager, requester, network_team):
    rule(manager, "Off", [], {"team": network_team.pk}, is_active=False)
    assert services.ticket_create(actor=requester, title="x").assigned_team is None


def test_a_routed_team_with_a_strategy_gets_an_agent_of_its_own(manager, requester, network_team, agent):
    TeamMembershipFactory(team=network_team, user=agent)
    TeamQueueSettings.objects.create(team=network_team, strategy=AssignmentStrategy.LEAST_LOADED)
    rule(manager, "All to network", [], {"team": network_team.pk})
    ticket = services.ticket_create(actor=requester, title="x")
    assert ticket.assignee == agent
    event = ticket.events.get(kind=EventKind.ROUTING)
    assert event.data["strategy"] == "least_loaded" and event.data["changes"]["assignee"] == [None, agent.pk]


def test_a_rule_may_name_the_assignee_among_the_team(manager, requester, network_team, agent):
    TeamMembershipFactory(team=network_team, user=agent)
    rule(manager, "To Sam", [], {"team": network_team.pk, "assignee": agent.pk})
    assert services.ticket_create(actor=requester, title="x").assignee == agent


@pytest.mark.parametrize(
    ("conditions", "actions", "field"),
    [
        ([{"name": "moon_phase"}], {"priority": 1}, "conditions[0].name"),
        ([{"name": "channel", "params": {"in": ["pigeon"]}}], {"priority": 1}, "conditions[0].params.in"),
        ([{"name": "words", "params": {}}], {"priority": 1}, "conditions[0].params.any"),
        (
            [{"name": "channel", "params": {"in": ["email"], "colour": 1}}],
            {"priority": 1},
            "conditions[0].params.colour",
        ),
        ([{"name": "service", "params": {"in": [999999]}}], {"priority": 1}, "conditions[0].params.in"),
        ([], {}, "actions"),
        ([], {"team": 999999}, "actions.team"),
        ([], {"priority": 9}, "actions.priority"),
        ([], {"launch": "rockets"}, "actions.launch"),
        ([], {"tags": "one"}, "actions.tags"),
    ],
)
def test_rules_with_bad_conditions_or_actions_are_refused_naming_the_place(
    manager, conditions, actions, field
):
    with pytest.raises(ServiceError) as refused:
        rule(manager, "Bad", conditions, actions)
    assert refused.value.field == field
    assert not RoutingRule.objects.exists()


def test_an_assignee_must_be_a_member_of_the_rules_team(manager, network_team, agent):
    with pytest.raises(ServiceError) as refused:
        rule(manager, "Bad", [], {"team": network_team.pk, "assignee": agent.pk})
    assert refused.value.field == "actions.assignee" and "not a member" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        rule(manager, "Bad", [], {"assignee": agent.pk})
    assert refused.value.field == "actions.assignee"


def test_editing_a_rule_checks_it_again_and_refuses_stale_versions(manager, network_team):
    from opsdesk.core.exceptions import ConcurrencyConflict

    made = rule(manager, "Net", [], {"team": network_team.pk})
    seen = made.version
    services.routing_rule_save(actor=manager, rule=made, data={"position": 5}, expected_version=seen)
    with pytest.raises(ServiceError) as refused:
        services.routing_rule_save(actor=manager, rule=made, data={"actions": {"team": 0}})
    assert refused.value.field == "actions.team"
    with pytest.raises(ConcurrencyConflict):
        services.routing_rule_save(actor=manager, rule=made, data={"position": 7}, expected_version=seen)


def test_managers_edit_routing_rules_agents_only_read_them(manager, agent, requester, network_team):
    with pytest.raises(NotAllowed):
        rule(agent, "Mine", [], {"team": network_team.pk})
    made = rule(manager, "Net", [], {"team": network_team.pk})
    assert list(RoutingRule.objects.restrict(agent, "view")) == [made]
    assert not RoutingRule.objects.restrict(agent, "change").exists()
    assert not RoutingRule.objects.restrict(requester, "view").exists()


def test_agents_can_run_the_rules_again_on_an_open_ticket(manager, agent, requester, network_team):
    ticket = services.ticket_create(actor=requester, title="Printer")
    rule(manager, "Printers", [{"name": "words", "params": {"any": ["printer"]}}], {"team": network_team.pk})
    with pytest.raises(NotAllowed):
        services.ticket_route(actor=requester, ticket=ticket)
    matched = services.ticket_route(actor=agent, ticket=ticket)
    assert [item.name for item in matched] == ["Printers"] and ticket.assigned_team == network_team
    assert ticket.events.get(kind=EventKind.ROUTING).author == agent
