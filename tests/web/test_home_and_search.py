"""Landing pages and the global search."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.core.audit import acting
from tests.accounts.factories import LocationFactory, TeamFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


def test_requester_landing_on_home_is_sent_to_the_portal(client, make_user):
    client.force_login(make_user(role=Role.REQUESTER))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal")


def test_agent_home_shows_their_teams_with_real_member_counts(client, make_user):
    agent = make_user(role=Role.AGENT)
    team = TeamFactory(name="Network team")
    TeamMembershipFactory(team=team, user=agent)
    TeamMembershipFactory(team=team)
    client.force_login(agent)
    response = client.get(reverse("home"))
    assert [(t.name, t.member_count) for t in response.context["teams"]] == [("Network team", 2)]


def test_agent_without_team_gets_a_helpful_empty_state(client, make_user):
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(reverse("home"))
    assert b"No teams yet" in response.content
    assert b"ask a manager to add you to a team" in response.content.lower()


def test_recent_activity_is_restricted_to_what_the_reader_may_see(client, make_user):
    manager = make_user(role=Role.MANAGER)
    with acting(actor=manager):
        LocationFactory(name="Paris office")
    agent = make_user(role=Role.AGENT)
    client.force_login(agent)
    assert client.get(reverse("home")).context["recent_activity"] == []
    client.force_login(manager)
    activity = client.get(reverse("home")).context["recent_activity"]
    assert "Paris office" in [entry.object_repr for entry in activity]


def test_portal_speaks_to_requesters_about_what_they_can_do_now(client, make_user):
    from opsdesk.tickets.services import ticket_create

    requester = make_user(role=Role.REQUESTER)
    ticket = ticket_create(actor=requester, title="My screen flickers")
    client.force_login(requester)
    response = client.get(reverse("portal"))
    assert b"Update your details" in response.content
    assert requester.organization.name.encode() in response.content
    assert b"Report a problem" in response.content and b"Request something" in response.content
    assert b"My screen flickers" in response.content and ticket.number.encode() in response.content


def test_navigation_links_only_pages_the_user_may_open(client, make_user):
    client.force_login(make_user(role=Role.REQUESTER))
    response = client.get(reverse("portal"))
    labels = [item.label for section in response.context["nav_sections"] for item in section.items]
    assert "Teams" not in labels and "Audit log" not in labels and "Django admin" not in labels
    for section in response.context["nav_sections"]:
        for item in section.items:
            assert client.get(item.url).status_code == 200, item.url


def test_admin_navigation_reaches_the_logs_and_django_admin(client, make_user):
    client.force_login(make_user(role=Role.ADMIN))
    response = client.get(reverse("home"))
    labels = {item.label for section in response.context["nav_sections"] for item in section.items}
    assert {"Audit log", "Security log", "Jobs", "Django admin", "API docs"} <= labels


def test_search_finds_people_the_agent_may_see(client, make_user):
    agent = make_user(role=Role.AGENT)
    make_user(username="zoe.winter", first_name="Zoe", last_name="Winter")
    client.force_login(agent)
    response = client.get(reverse("search"), {"q": "winter"})
    assert [hit.title for _, hits in response.context["groups"] for hit in hits] == [
        "Zoe Winter <zoe.winter@example.com>"
    ]


def test_search_never_finds_another_organisations_people_for_a_requester(client, make_user):
    requester = make_user(role=Role.REQUESTER)
    make_user(username="zoe.winter", first_name="Zoe", last_name="Winter")
    client.force_login(requester)
    response = client.get(reverse("search"), {"q": "winter"})
    assert response.context["groups"] == []
    assert b"No matches" in response.content


def test_search_explains_a_too_short_query(client, make_user):
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(reverse("search"), {"q": "w"})
    assert b"at least two characters" in response.content
