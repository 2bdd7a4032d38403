"""Every list: cursor pagination, ?search=, ?ordering= and the app's FilterSet; and a bounded
number of queries however many rows there are."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.accounts.services import token_create
from opsdesk.core.models import Job
from tests.accounts.factories import (
    AbsenceFactory,
    AgentSkillFactory,
    LocationFactory,
    OrganizationFactory,
    ShiftFactory,
    SkillFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "users",
    "organizations",
    "teams",
    "locations",
    "skills",
    "agent-skills",
    "shifts",
    "absences",
    "audit",
    "security-events",
    "jobs",
]


def _rows(endpoint: str, count: int) -> None:
    """``count`` more rows behind ``endpoint``, each with its relations filled in."""
    for n in range(count):
        if endpoint == "users":
            user = UserFactory(role=Role.AGENT, location=LocationFactory())
            TeamMembershipFactory(user=user)
        elif endpoint == "organizations":
            OrganizationFactory(parent=OrganizationFactory(), location=LocationFactory())
        elif endpoint == "teams":
            TeamMembershipFactory(team=TeamFactory(lead=UserFactory(role=Role.TEAM_LEAD)))
        elif endpoint == "locations":
            LocationFactory()
        elif endpoint == "skills":
            SkillFactory()
        elif endpoint == "agent-skills":
            AgentSkillFactory()
        elif endpoint == "shifts":
            ShiftFactory()
        elif endpoint == "absences":
            AbsenceFactory()
        elif endpoint == "audit":
            LocationFactory()  # its creation is audited
        elif endpoint == "security-events":
            user = UserFactory()
            token_create(actor=user, user=user, name=f"token {n}")
        elif endpoint == "jobs":
            Job.objects.create(name=f"job {n}")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_queries_stay_bounded_as_rows_grow(api_as, django_assert_max_num_queries, endpoint):
    client = api_as(UserFactory(role=Role.ADMIN))
    _rows(endpoint, 5)
    with django_assert_max_num_queries(8) as few:
        assert client.get(f"/api/v1/{endpoint}/").status_code == 200
    _rows(endpoint, 45)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_list_pages_with_a_cursor(api_as, endpoint):
    client = api_as(UserFactory(role=Role.ADMIN))
    _rows(endpoint, 5)
    first = client.get(f"/api/v1/{endpoint}/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"] and "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in second["results"]}


def test_search_ordering_and_filters_on_the_people_list(world, api_as):
    client = api_as(world.people.manager)
    found = client.get("/api/v1/users/", {"search": world.people.lead.username}).json()["results"]
    assert [row["id"] for row in found] == [world.people.lead.pk]
    ordered = client.get("/api/v1/users/", {"ordering": "username"}).json()["results"]
    assert [row["username"] for row in ordered] == sorted(row["username"] for row in ordered)
    members = client.get("/api/v1/users/", {"team": world.team.pk}).json()["results"]
    assert [row["id"] for row in members] == [world.people.member.pk]
    auditors = client.get("/api/v1/users/", {"role": "auditor"}).json()["results"]
    assert [row["id"] for row in auditors] == [world.people.auditor.pk]


@pytest.mark.parametrize(
    ("endpoint", "search", "ordering", "filters"),
    [
        ("organizations", "Globex", "-name", {"parent__isnull": "true"}),
        ("teams", "Network", "tier", {"tier": "L1"}),
        ("locations", "Berlin", "name", {"country": "DE"}),
        ("skills", "Linux", "category", {"category": ""}),
        ("agent-skills", "Linux", "-level", {"level__gte": 3}),
        ("shifts", "", "weekday", {"weekday": 0}),
        ("absences", "", "-starts_at", {"kind": "holiday"}),
        ("audit", "Berlin", "-at", {"operation": "create"}),
        ("security-events", "", "-at", {"kind": "token_created"}),
        ("jobs", "", "-created_at", {"status": "running"}),
    ],
)
def test_every_list_takes_search_ordering_and_filters(world, api_as, endpoint, search, ordering, filters):
    client = api_as(world.people.admin)
    response = client.get(f"/api/v1/{endpoint}/", {"search": search, "ordering": ordering, **filters})
    assert response.status_code == 200, response.content


def test_an_invalid_filter_value_is_a_400_problem(api_as):
    response = api_as(UserFactory(role=Role.ADMIN)).get("/api/v1/absences/", {"starts_at__gte": "yesterday"})
    assert response.status_code == 400
    assert "starts_at__gte" in response.json()["errors"]
