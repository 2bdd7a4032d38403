"""The desk's settings screens: who may open and change them, the rule editor built from the
condition registry (a saved rule routes the next ticket; a bad value is refused next to its
input and writes nothing), the escalation matrix, team strategies and categories."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.tickets import services
from opsdesk.tickets.choices import AssignmentStrategy, EventKind
from opsdesk.tickets.models import (
    Category,
    EscalationMatrixStep,
    EscalationRule,
    RoutingRule,
    TeamQueueSettings,
    TimelineEvent,
)
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    it = OrganizationFactory(name="IT")
    people = SimpleNamespace(
        requester=UserFactory(username="rita", role=Role.REQUESTER, organization=OrganizationFactory()),
        agent=UserFactory(username="anna", role=Role.AGENT, organization=it),
        lead=UserFactory(username="leo", role=Role.TEAM_LEAD, organization=it),
        manager=UserFactory(username="mia", role=Role.MANAGER, organization=it),
        admin=UserFactory(username="ada", role=Role.ADMIN, organization=it),
        auditor=UserFactory(username="aldo", role=Role.AUDITOR, organization=it),
    )
    team = TeamFactory(name="Service desk", lead=people.lead)
    network = TeamFactory(name="Network", tier="L2")
    TeamMembershipFactory(team=team, user=people.agent)
    TeamMembershipFactory(team=team, user=people.lead)
    TeamMembershipFactory(team=network, user=people.agent)
    rule = services.routing_rule_save(
        actor=people.manager,
        data={
            "name": "Phones",
            "conditions": [{"name": "channel", "params": {"in": ["phone"]}}],
            "actions": {"team": team.pk},
        },
    )
    escalation_rule = services.escalation_rule_save(
        actor=people.manager,
        data={"name": "P1", "conditions": [{"name": "priority", "params": {"in": [1]}}]},
    )
    step = services.escalation_step_save(
        actor=people.manager, data={"level": 1, "team": network, "notify_team_lead": True}
    )
    category = Category.objects.create(name="Hardware")
    return SimpleNamespace(
        **vars(people),
        team=team,
        network=network,
        rule=rule,
        escalation_rule=escalation_rule,
        step=step,
        category=category,
    )


def _args(desk, key):
    return [] if key is None else [getattr(desk, key).pk]


READERS = ("agent", "lead", "manager", "admin", "auditor")
PAGES = [
    ("tickets:settings", None),
    ("tickets:settings_routing", None),
    ("tickets:settings_escalation", None),
    ("tickets:settings_teams", None),
    ("tickets:settings_categories", None),
]
EDITORS = [
    ("tickets:settings_routing_add", None),
    ("tickets:settings_routing_edit", "rule"),
    ("tickets:settings_routing_delete", "rule"),
    ("tickets:settings_escalation_add", None),
    ("tickets:settings_escalation_edit", "escalation_rule"),
    ("tickets:settings_escalation_delete", "escalation_rule"),
    ("tickets:settings_step_add", None),
    ("tickets:settings_step_edit", "step"),
    ("tickets:settings_step_delete", "step"),
    ("tickets:settings_category_add", None),
    ("tickets:settings_category_edit", "category"),
]


def _expected_edit(who: str, key: str | None) -> int:
    if who in ("manager", "admin"):
        return 200
    if who == "requester":
        # Rules are staff reads: a requester cannot even see that one exists. Categories are
        # everyone's to read, so editing one is refused rather than hidden.
        return 404 if key not in (None, "category") else 403
    return 403


MATRIX = [
    *[(name, key, None, 302) for name, key in PAGES + EDITORS],
    *[(name, key, "requester", 403) for name, key in PAGES],
    *[(name, key, who, 200) for name, key in PAGES for who in READERS],
    *[(name, key, who, _expected_edit(who, key)) for name, key in EDITORS for who in (*READERS, "requester")],
]


@pytest.mark.parametrize(("name", "key", "who", "expected"), MATRIX)
def test_settings_pages_answer_each_role_as_the_rules_say(client, desk, name, key, who, expected):
    if who is not None:
        client.force_login(getattr(desk, who))
    response = client.get(reverse(name, args=_args(desk, key)))
    assert response.status_code == expected
    if who is None:
        assert response["Location"].startswith(reverse("login"))


def _rule_post(desk, **overrides):
    data = {
        "op": "save",
        "name": "VPN to network",
        "description": "",
        "position": "50",
        "is_active": "on",
        "stop_processing": "on",
        "condition_rows": "2",
        "c-0-name": "words",
        "c-0-any": "vpn, tunnel",
        "c-1-name": "channel",
        "c-1-in": ["email", "portal"],
        "team": str(desk.network.pk),
        "priority": "2",
        "tags": "vpn",
    }
    data.update(overrides)
    return data


def test_a_rule_made_in_the_form_routes_the_next_ticket(client, desk):
    client.force_login(desk.manager)
    response = client.post(reverse("tickets:settings_routing_add"), _rule_post(desk))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RoutingRule.objects.get(name="VPN to network")
    assert rule.conditions == [
        {"name": "words", "params": {"any": ["tunnel", "vpn"]}},
        {"name": "channel", "params": {"in": ["portal", "email"]}},
    ]
    assert rule.actions == {"team": desk.network.pk, "priority": 2, "tags": ["vpn"]}
    ticket = services.ticket_create(actor=desk.requester, title="My VPN drops every hour")
    ticket.refresh_from_db()
    assert ticket.assigned_team == desk.network and ticket.priority == 2
    event = TimelineEvent.objects.get(ticket=ticket, kind=EventKind.ROUTING)
    assert event.data["rule"]["name"] == "VPN to network"


def test_a_bad_parameter_is_shown_next_to_its_input_and_nothing_is_written(client, desk):
    client.force_login(desk.manager)
    data = _rule_post(desk, **{"c-1-name": "unresolved_minutes", "c-1-minutes": "-5"})
    data.pop("c-1-in")
    response = client.post(reverse("tickets:settings_routing_add"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-error-for="c-1-minutes"' in page
    assert "a whole number from 0" in page
    assert not RoutingRule.objects.filter(name="VPN to network").exists()


def test_an_assignee_outside_the_team_is_refused_next_to_the_agent_field(client, desk):
    client.force_login(desk.manager)
    response = client.post(
        reverse("tickets:settings_routing_add"), _rule_post(desk, assignee=str(desk.lead.pk))
    )
    assert response.status_code == 400
    assert response.context["form"].errors["assignee"] == ["this person is not a member of the rule's team"]
    assert not RoutingRule.objects.filter(name="VPN to network").exists()


def test_changing_a_condition_redraws_the_form_without_saving(client, desk):
    client.force_login(desk.manager)
    data = _rule_post(desk, op="add", **{"c-1-name": "reopened_times"})
    response = client.post(reverse("tickets:settings_routing_add"), data)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.name for row in rows] == ["words", "reopened_times", ""]
    assert [item.name for item in rows[1].params] == ["times"]
    assert rows[0].params[0].text == "vpn, tunnel"
    assert not RoutingRule.objects.filter(name="VPN to network").exists()


def test_editing_a_rule_keeps_its_conditions_and_refuses_a_stale_version(client, desk):
    client.force_login(desk.manager)
    url = reverse("tickets:settings_routing_edit", args=[desk.rule.pk])
    page = client.get(url)
    assert page.context["rows"][0].params[0].selected == ["phone"]
    data = {
        "op": "save",
        "name": "Phones",
        "position": "10",
        "is_active": "on",
        "condition_rows": "1",
        "c-0-name": "channel",
        "c-0-in": ["phone", "chat"],
        "team": str(desk.team.pk),
        "version": str(desk.rule.version),
    }
    assert client.post(url, data).status_code == 302
    desk.rule.refresh_from_db()
    assert desk.rule.conditions[0]["params"]["in"] == ["chat", "phone"]
    assert desk.rule.position == 10
    stale = client.post(url, {**data, "name": "Phones again"})
    assert stale.status_code == 409
    desk.rule.refresh_from_db()
    assert desk.rule.name == "Phones"


def test_rules_move_up_and_down(client, desk):
    other = services.routing_rule_save(
        actor=desk.manager, data={"name": "Later", "position": 200, "actions": {"priority": 3}}
    )
    client.force_login(desk.manager)
    client.post(reverse("tickets:settings_routing_move", args=[other.pk]), {"direction": "up"})
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == [
        "Later",
        "Phones",
    ]


def test_agents_read_rules_but_may_not_write_them(client, desk):
    client.force_login(desk.agent)
    assert client.post(reverse("tickets:settings_routing_add"), _rule_post(desk)).status_code == 403
    response = client.post(reverse("tickets:settings_routing_move", args=[desk.rule.pk]), {"direction": "up"})
    assert response.status_code == 403
    client.force_login(desk.auditor)
    assert client.post(reverse("tickets:settings_routing_delete", args=[desk.rule.pk])).status_code == 403
    assert RoutingRule.objects.count() == 1


def test_the_rule_test_is_a_dry_run(client, desk):
    ticket = services.ticket_create(actor=desk.requester, title="Call me", channel="phone")
    version = ticket.version
    client.force_login(desk.agent)
    page = client.get(reverse("tickets:settings_routing"), {"ticket": ticket.number})
    assert page.context["test"]["matches"][0]["rule"] == desk.rule
    ticket.refresh_from_db()
    assert ticket.version == version


def test_escalation_rules_and_matrix_steps_save_through_the_services(client, desk):
    client.force_login(desk.manager)
    response = client.post(
        reverse("tickets:settings_escalation_add"),
        {
            "op": "save",
            "name": "Slow start",
            "position": "100",
            "is_active": "on",
            "kind": "hierarchical",
            "condition_rows": "1",
            "c-0-name": "no_first_response_minutes",
            "c-0-minutes": "30",
        },
    )
    assert response.status_code == 302
    assert EscalationRule.objects.get(name="Slow start").conditions == [
        {"name": "no_first_response_minutes", "params": {"minutes": 30}}
    ]
    empty = client.post(reverse("tickets:settings_step_add"), {"level": "2"})
    assert empty.status_code == 400
    assert "moves the ticket to a team, notifies people, or both" in empty.content.decode()
    response = client.post(
        reverse("tickets:settings_step_add"),
        {"level": "2", "priority": "1", "notify_users": [str(desk.lead.pk)]},
    )
    assert response.status_code == 302
    step = EscalationMatrixStep.objects.get(level=2)
    assert list(step.notify_users.all()) == [desk.lead] and step.priority == 1
    page = client.get(reverse("tickets:settings_escalation")).content.decode()
    assert "default path" in page


def test_an_escalation_rule_needs_a_condition(client, desk):
    client.force_login(desk.manager)
    response = client.post(
        reverse("tickets:settings_escalation_add"),
        {"op": "save", "name": "Never", "position": "1", "kind": "functional", "condition_rows": "1"},
    )
    assert response.status_code == 400
    assert "needs at least one condition" in response.content.decode()
    assert not EscalationRule.objects.filter(name="Never").exists()


def test_a_team_lead_sets_their_own_teams_strategy_only(client, desk):
    client.force_login(desk.lead)
    page = client.get(reverse("tickets:settings_teams"))
    rows = {row["team"].name: row["can_change"] for row in page.context["rows"]}
    assert rows == {"Service desk": True, "Network": False}
    own = client.post(
        reverse("tickets:settings_team_strategy", args=[desk.team.pk]),
        {f"t{desk.team.pk}-strategy": "round_robin"},
    )
    assert own.status_code == 302
    assert TeamQueueSettings.objects.get(team=desk.team).strategy == AssignmentStrategy.ROUND_ROBIN
    other = client.post(
        reverse("tickets:settings_team_strategy", args=[desk.network.pk]),
        {f"t{desk.network.pk}-strategy": "least_loaded"},
    )
    assert other.status_code == 403
    assert not TeamQueueSettings.objects.filter(team=desk.network).exists()


@pytest.mark.parametrize(("who", "expected"), [("agent", 403), ("auditor", 403), ("manager", 302)])
def test_only_managers_set_any_teams_strategy(client, desk, who, expected):
    client.force_login(getattr(desk, who))
    response = client.post(
        reverse("tickets:settings_team_strategy", args=[desk.network.pk]),
        {f"t{desk.network.pk}-strategy": "skills"},
    )
    assert response.status_code == expected
    assert TeamQueueSettings.objects.filter(team=desk.network).exists() == (expected == 302)


def test_managers_set_a_categorys_required_skill(client, desk):
    from tests.accounts.factories import SkillFactory

    skill = SkillFactory(name="Printers")
    client.force_login(desk.manager)
    url = reverse("tickets:settings_category_edit", args=[desk.category.pk])
    response = client.post(
        url,
        {
            "name": "Hardware",
            "is_active": "on",
            "required_skill": str(skill.pk),
            "min_skill_level": "3",
            "version": str(desk.category.version),
        },
    )
    assert response.status_code == 302
    desk.category.refresh_from_db()
    assert desk.category.required_skill == skill and desk.category.min_skill_level == 3


def test_the_sidebar_offers_desk_settings_to_those_who_change_them(client, desk):
    for who, shown in (("manager", True), ("lead", True), ("agent", False), ("auditor", False)):
        client.force_login(getattr(desk, who))
        page = client.get(reverse("tickets:workload")).content.decode()
        assert (reverse("tickets:settings") in page) == shown, who
        assert reverse("tickets:escalations") in page


def test_a_matrix_step_is_edited_and_a_stale_edit_refused(client, desk):
    client.force_login(desk.manager)
    url = reverse("tickets:settings_step_edit", args=[desk.step.pk])
    data = {
        "level": "1",
        "service": "",
        "priority": "",
        "team": str(desk.network.pk),
        "version": desk.step.version,
    }
    assert client.post(url, data).status_code == 302
    desk.step.refresh_from_db()
    assert desk.step.notify_team_lead is False and desk.step.team == desk.network
    assert client.post(url, {**data, "notify_team_lead": "on"}).status_code == 409
