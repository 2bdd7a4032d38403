"""The workload and escalations screens (who opens them, what they count, a fixed number of
queries), satisfaction per team, and the ticket page's manual escalation and resolve-children."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.tickets import selectors, services
from opsdesk.tickets.choices import EscalationKind, EventKind, Status
from opsdesk.tickets.models import EscalationRecord, Survey, Ticket, TimelineEvent
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    it = OrganizationFactory(name="IT")
    people = SimpleNamespace(
        requester=UserFactory(username="rita", role=Role.REQUESTER, organization=OrganizationFactory()),
        agent=UserFactory(username="anna", role=Role.AGENT, organization=it),
        other_agent=UserFactory(username="ben", role=Role.AGENT, organization=it),
        lead=UserFactory(username="leo", role=Role.TEAM_LEAD, organization=it),
        manager=UserFactory(username="mia", role=Role.MANAGER, organization=it),
        auditor=UserFactory(username="aldo", role=Role.AUDITOR, organization=it),
    )
    team = TeamFactory(name="Service desk", lead=people.lead)
    network = TeamFactory(name="Network", tier="L2")
    for person in (people.agent, people.other_agent, people.lead):
        TeamMembershipFactory(team=team, user=person)
    TeamMembershipFactory(team=network, user=people.other_agent)
    return SimpleNamespace(**vars(people), team=team, network=network)


def _tickets(desk, count: int, *, assignee=None) -> list[Ticket]:
    made = []
    for index in range(count):
        ticket = services.ticket_create(actor=desk.requester, title=f"Broken {index}")
        services.ticket_assign(actor=desk.manager, ticket=ticket, team=desk.team, assignee=assignee)
        made.append(ticket)
    return made


@pytest.mark.parametrize("name", ["tickets:workload", "tickets:escalations"])
@pytest.mark.parametrize(
    ("who", "expected"),
    [(None, 302), ("requester", 403), ("agent", 200), ("lead", 200), ("manager", 200), ("auditor", 200)],
)
def test_overviews_answer_each_role(client, desk, name, who, expected):
    if who:
        client.force_login(getattr(desk, who))
    response = client.get(reverse(name))
    assert response.status_code == expected
    if who is None:
        assert response["Location"].startswith(reverse("login"))


def test_workload_counts_per_agent_and_links_to_the_matching_queue(client, desk):
    _tickets(desk, 3, assignee=desk.agent)
    _tickets(desk, 1)
    client.force_login(desk.lead)
    response = client.get(reverse("tickets:workload"))
    team = next(item for item in response.context["teams"] if item["load"].team == desk.team)
    by_label = {row["label"]: row for row in team["rows"]}
    anna = by_label[str(desk.agent)]
    assert anna["load"].open == 3
    assert f"assignee={desk.agent.pk}" in anna["url"] and f"assigned_team={desk.team.pk}" in anna["url"]
    queue = by_label["In the queue (nobody yet)"]
    assert queue["load"].open == 1 and "unassigned=true" in queue["url"]
    assert team["load"].max_over_mean == 3.0 and team["imbalanced"]
    # The link opens the queue showing exactly those tickets.
    listing = client.get(anna["url"])
    assert listing.status_code == 200
    assert listing.context["page_obj"].paginator.count == 3
    chart = response.context["chart_data"][str(desk.team.pk)]
    assert chart["labels"][-1] == "In the queue (nobody yet)"
    assert 'id="workload-data"' in response.content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_workload_and_escalations_cost_the_same_queries_for_more_tickets(client, desk):
    client.force_login(desk.manager)
    first = _tickets(desk, 2, assignee=desk.agent)
    services.ticket_escalate(actor=desk.agent, ticket=first[0], reason="Stuck", team=desk.network)
    few = {name: _queries(client, reverse(name)) for name in ("tickets:workload", "tickets:escalations")}
    more = _tickets(desk, 6, assignee=desk.other_agent)
    for ticket in more[:3]:
        services.ticket_escalate(actor=desk.agent, ticket=ticket, reason="Stuck", team=desk.network)
    many = {name: _queries(client, reverse(name)) for name in ("tickets:workload", "tickets:escalations")}
    assert many == few
    assert few["tickets:workload"] <= 14 and few["tickets:escalations"] <= 20


def test_escalations_screen_shows_the_figures_and_filters_the_list(client, desk):
    ticket = _tickets(desk, 1, assignee=desk.agent)[0]
    services.ticket_escalate(actor=desk.agent, ticket=ticket, reason="Customer waiting", team=desk.network)
    client.force_login(desk.agent)
    response = client.get(reverse("tickets:escalations"), {"days": "7"})
    assert response.context["figures"]["total"] == 1
    assert [record.ticket for record in response.context["records"]] == [ticket]
    assert "Customer waiting" in response.content.decode()
    filtered = client.get(reverse("tickets:escalations"), {"kind": "hierarchical"})
    assert list(filtered.context["records"]) == []


def test_satisfaction_per_team_and_the_surveys_to_review(client, desk):
    tickets = _tickets(desk, 3, assignee=desk.agent)
    for ticket, rating in zip(tickets, (5, 4, 1), strict=True):
        services.ticket_transition(
            actor=desk.agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved"
        )
        services.survey_answer(survey=Survey.objects.get(ticket=ticket), rating=rating, actor=desk.requester)
    since = timezone.now() - timedelta(days=1)
    [row] = selectors.satisfaction_by_team(user=desk.manager, since=since)
    assert (row.team, row.count, row.average, row.low_share, row.needs_review) == (
        desk.team,
        3,
        3.33,
        0.333,
        1,
    )
    # Restricted like the tickets: another requester sees none of these ratings.
    stranger = UserFactory(role=Role.REQUESTER, organization=OrganizationFactory())
    assert selectors.satisfaction_by_team(user=stranger, since=since) == []
    client.force_login(desk.lead)
    response = client.get(reverse("tickets:workload"))
    assert [survey.ticket for survey in response.context["reviews"]] == [tickets[2]]
    assert tickets[2].number in response.content.decode()


def test_an_agent_escalates_from_the_ticket_page(client, desk):
    ticket = _tickets(desk, 1, assignee=desk.agent)[0]
    ticket.refresh_from_db()
    client.force_login(desk.agent)
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert reverse("tickets:escalate", args=[ticket.number]) in page
    url = reverse("tickets:escalate", args=[ticket.number])
    refused = client.post(url, {"kind": "functional", "reason": "", "version": ticket.version})
    assert refused.status_code == 400 and not EscalationRecord.objects.exists()
    response = client.post(
        url, {"kind": "functional", "team": desk.network.pk, "reason": "Needs L2", "version": ticket.version}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.assigned_team == desk.network
    record = EscalationRecord.objects.get(ticket=ticket)
    assert (record.kind, record.reason, record.actor) == (EscalationKind.FUNCTIONAL, "Needs L2", desk.agent)
    assert TimelineEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATION).exists()
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert "Escalated · level 1" in page
    queue = client.get(reverse("tickets:queue", args=["escalated"])).content.decode()
    assert 'title="Escalated, level 1"' in queue


@pytest.mark.parametrize(("who", "expected"), [("auditor", 403), ("requester", 403)])
def test_auditors_and_the_requester_cannot_escalate(client, desk, who, expected):
    ticket = _tickets(desk, 1)[0]
    client.force_login(getattr(desk, who))
    response = client.post(
        reverse("tickets:escalate", args=[ticket.number]), {"kind": "functional", "reason": "x"}
    )
    assert response.status_code == expected
    assert not EscalationRecord.objects.exists()


def test_resolving_a_parent_may_resolve_its_children(client, desk):
    parent, child = _tickets(desk, 2, assignee=desk.agent)
    services.ticket_set_parent(actor=desk.agent, ticket=child, parent=parent)
    parent.refresh_from_db()
    client.force_login(desk.agent)
    page = client.get(reverse("tickets:detail", args=[parent.number])).content.decode()
    assert 'name="resolve_children"' in page
    response = client.post(
        reverse("tickets:transition", args=[parent.number]),
        {"to": "resolved", "resolution_code": "solved", "resolve_children": "on", "version": parent.version},
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.status == Status.RESOLVED
