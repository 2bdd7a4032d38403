"""The global search page and /api/v1/search/: ranked, highlighted, filtered, counted — and
never more than the reader may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.tickets import search_index
from opsdesk.tickets.services import ticket_create, ticket_reply
from opsdesk.tickets.services.problems import problem_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tickets_registered():
    search_index.register()


def test_agent_sees_ranked_hits_with_kinds_counts_and_highlighted_snippets(client, make_user):
    agent = make_user(role=Role.AGENT)
    ticket = ticket_create(
        actor=make_user(), title="Wi-Fi drops in room 4", description="The <b>wifi</b> drops"
    )
    problem_create(actor=agent, title="Access point firmware drops clients")
    client.force_login(agent)
    response = client.get(reverse("search"), {"q": "drops"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>drops</mark>" in html
    # Markup in a record is shown as text (SQLite) or dropped (PostgreSQL's ts_headline), never rendered.
    assert "<b>wifi</b>" not in html and "wifi" in html
    assert {c.kind: c.count for c in response.context["results"].counts} == {"ticket": 1, "problem": 1}
    assert ticket.get_absolute_url() in html

    only_problems = client.get(reverse("search"), {"q": "drops", "type": "problem"})
    assert [hit.kind for hit in only_problems.context["hits"]] == ["problem"]


def test_requester_page_hides_internal_notes_and_other_peoples_tickets(client, make_user):
    agent = make_user(role=Role.AGENT)
    requester = make_user()
    ticket = ticket_create(actor=requester, title="Cannot print")
    ticket_reply(actor=agent, ticket=ticket, body="quarantined printer driver", public=False)
    ticket_create(actor=make_user(), title="Cannot print either, quarantined")
    client.force_login(requester)
    response = client.get(reverse("search"), {"q": "quarantined"})
    assert b"No matches" in response.content
    assert response.context["results"].counts == []


def test_bad_filters_and_syntax_are_explained_not_errors(client, make_user):
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(reverse("search"), {"q": 'NEAR("x', "since": "2025-02-30", "service": "abc"})
    assert response.status_code == 200
    assert b"Enter a valid date" in response.content
    response = client.get(reverse("search"), {"q": "*** ((("})
    assert response.status_code == 200 and b"letters or digits" in response.content


def test_api_search_returns_counts_pages_and_marks(api_as, make_user):
    agent = make_user(role=Role.AGENT)
    requester = make_user()
    for n in range(3):
        ticket_create(actor=requester, title=f"Docking station {n} not detected")
    response = api_as(agent).get("/api/v1/search/", {"q": "docking", "page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3 and body["counts"] == [
        {"kind": "ticket", "label": "Ticket", "count": 3, "capped": False}
    ]
    assert len(body["results"]) == 2 and body["next"] and body["previous"] is None
    assert "<mark>Docking</mark>" in body["results"][0]["title_html"]
    second = api_as(agent).get(body["next"])
    assert len(second.json()["results"]) == 1 and second.json()["previous"]


def test_api_search_is_restricted_for_requesters(api_as, make_user):
    requester = make_user()
    ticket_create(actor=make_user(), title="Salary spreadsheet locked")
    body = api_as(requester).get("/api/v1/search/", {"q": "salary"}).json()
    assert body["total"] == 0 and body["results"] == [] and body["counts"] == []


def test_api_search_rejects_unknown_types_and_bad_dates_with_problem_details(api_as, make_user):
    client = api_as(make_user(role=Role.AGENT))
    response = client.get("/api/v1/search/", {"q": "x", "type": "spaceship"})
    assert response.status_code == 400 and "spaceship" in response.json()["errors"]["type"][0]
    response = client.get("/api/v1/search/", {"q": "xy", "since": "2025-05-02", "until": "2025-05-01"})
    assert response.status_code == 400 and "until" in response.json()["errors"]


def test_api_search_needs_sign_in(api_client):
    assert api_client.get("/api/v1/search/", {"q": "anything"}).status_code in (401, 403)
