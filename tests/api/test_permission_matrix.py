"""Who may do what, endpoint by endpoint: anonymous, without the right, with it, and with it
but for another organisation (as NetBox's API test matrices do)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, Skill, Team, User
from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.models import AuditEntry, SecurityEvent
from tests.api.payloads import new_payload
from tests.api.problems import assert_problem

pytestmark = pytest.mark.django_db

DIRECTORY = ["users", "organizations", "teams", "locations", "skills", "agent-skills", "shifts", "absences"]
PLATFORM = ["audit", "security-events", "jobs"]
ROLES = ["requester", "agent", "lead", "manager", "auditor", "admin"]
MODELS = {
    "users": User,
    "organizations": Organization,
    "teams": Team,
    "locations": Location,
    "skills": Skill,
    "agent-skills": AgentSkill,
    "shifts": Shift,
    "absences": Absence,
}


def url(endpoint: str, pk: int | None = None) -> str:
    return f"/api/v1/{endpoint}/" + (f"{pk}/" if pk is not None else "")


def existing(world, endpoint: str):
    """The record each endpoint's change tests act on (a person or organisation outside Acme)."""
    return {
        "users": world.people.outsider,
        "organizations": world.elsewhere,
        "teams": world.team,
        "locations": world.location,
        "skills": world.skill,
        "agent-skills": world.agent_skill,
        "shifts": world.shift,
        "absences": world.absence,
    }[endpoint]


CHANGE = {
    "users": {"job_title": "Buyer"},
    "organizations": {"notes": "Key account"},
    "teams": {"description": "First line"},
    "locations": {"city": "Potsdam"},
    "skills": {"category": "Platforms"},
    "agent-skills": {"level": 5},
    "shifts": {"ends": "18:00"},
    "absences": {"note": "Conference"},
}

# Who may create a record at each endpoint. The team lead maintains skills, shifts and absences
# of the people in their team only; managers maintain the directory; admins everything.
CREATE = {
    "users": {"manager", "admin"},
    "organizations": {"manager", "admin"},
    "teams": {"manager", "admin"},
    "locations": {"manager", "admin"},
    "skills": {"manager", "admin"},
    "agent-skills": {"lead", "manager", "admin"},
    "shifts": {"lead", "manager", "admin"},
    "absences": {"lead", "manager", "admin"},
}
# What a role that may not change the record gets: 404 if it cannot even see it, else 403.
CHANGE_ALLOWED = {
    "users": {"manager", "admin"},
    "organizations": {"manager", "admin"},
    "teams": {"lead", "manager", "admin"},
    "locations": {"manager", "admin"},
    "skills": {"manager", "admin"},
    "agent-skills": {"lead", "manager", "admin"},
    "shifts": {"lead", "manager", "admin"},
    "absences": {"lead", "manager", "admin"},
}
# Without any right to change such records the answer is 403; with a right to change some
# (a requester edits their own profile) a record they cannot see is a 404, like a missing one.
HIDDEN = {("users", "requester")}


def cases(table: dict[str, set[str]]):
    return [(endpoint, role) for endpoint in table for role in ROLES]


# --- anonymous ----------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", [*DIRECTORY, *PLATFORM])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_asked_to_authenticate(endpoint, method):
    response = getattr(APIClient(), method)(url(endpoint), {}, format="json")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("endpoint", DIRECTORY)
def test_anonymous_cannot_read_or_change_a_record(world, endpoint):
    record = existing(world, endpoint)
    client = APIClient()
    assert_problem(client.get(url(endpoint, record.pk)), 401)
    assert_problem(client.patch(url(endpoint, record.pk), CHANGE[endpoint], format="json"), 401)
    assert_problem(client.delete(url(endpoint, record.pk)), 401)


# --- create ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("endpoint", "role"), cases(CREATE))
def test_create_needs_the_right_to_add(world, api_as, endpoint, role):
    model = MODELS[endpoint]
    before = model.objects.count()
    response = api_as(getattr(world.people, role)).post(
        url(endpoint), new_payload(endpoint, world), format="json"
    )
    if role in CREATE[endpoint]:
        assert response.status_code == 201, response.content
        assert model.objects.count() == before + 1
        assert response["ETag"] == f'"{response.json()["version"]}"'
    else:
        assert_problem(response, 403)
        assert model.objects.count() == before


# --- change -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("endpoint", "role"), cases(CHANGE_ALLOWED))
def test_change_needs_the_right_to_change_that_record(world, api_as, endpoint, role):
    record = existing(world, endpoint)
    version = record.version
    client = api_as(getattr(world.people, role))
    response = client.patch(
        url(endpoint, record.pk), CHANGE[endpoint], format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    record.refresh_from_db()
    if role in CHANGE_ALLOWED[endpoint]:
        assert response.status_code == 200, response.content
        assert record.version == version + 1
    else:
        assert_problem(response, 404 if (endpoint, role) in HIDDEN else 403)
        assert record.version == version


@pytest.mark.parametrize("endpoint", DIRECTORY)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_auditors_read_everything_and_change_nothing(world, api_as, endpoint, method):
    record = existing(world, endpoint)
    version = record.version
    client = api_as(world.people.auditor)
    assert client.get(url(endpoint, record.pk)).status_code == 200
    target = url(endpoint) if method == "post" else url(endpoint, record.pk)
    body = new_payload(endpoint, world) if method in ("post", "put") else CHANGE[endpoint]
    response = getattr(client, method)(target, body, format="json", HTTP_IF_MATCH=f'"{record.version}"')
    assert_problem(response, 403)
    record.refresh_from_db()
    assert record.version == version
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.PERMISSION_DENIED, user=world.people.auditor
    ).exists()


# --- read and list ------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", DIRECTORY)
def test_requester_lists_only_what_is_theirs(world, api_as, endpoint):
    response = api_as(world.people.requester).get(url(endpoint))
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    expected = {
        "users": {world.people.requester.pk},
        "organizations": {world.home.pk},
        "locations": set(Location.objects.values_list("pk", flat=True)),
    }.get(endpoint, set())
    assert ids == expected


@pytest.mark.parametrize("endpoint", DIRECTORY)
@pytest.mark.parametrize("role", ["agent", "lead", "manager", "auditor", "admin"])
def test_staff_list_the_whole_directory(world, api_as, endpoint, role):
    response = api_as(getattr(world.people, role)).get(url(endpoint))
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == set(MODELS[endpoint].objects.values_list("pk", flat=True))


def test_requester_cannot_see_other_organisations_people(world, api_as):
    client = api_as(world.people.requester)
    assert_problem(client.get(url("users", world.people.outsider.pk)), 404)
    assert_problem(client.get(url("users", world.people.colleague.pk)), 404)
    assert_problem(client.get(url("organizations", world.elsewhere.pk)), 404)


def test_requester_sees_their_organisation_where_it_allows_it(world, api_as):
    world.home.requesters_see_organization = True
    world.home.save()
    client = api_as(world.people.requester)
    ids = {row["id"] for row in client.get(url("users")).json()["results"]}
    assert ids == {world.people.requester.pk, world.people.colleague.pk}
    assert client.get(url("users", world.people.colleague.pk)).status_code == 200
    assert_problem(client.get(url("users", world.people.outsider.pk)), 404)


def test_requester_edits_their_own_profile(world, api_as):
    me = world.people.requester
    response = api_as(me).patch(
        url("users", me.pk), {"phone": "+49 30 1234"}, format="json", HTTP_IF_MATCH=f'"{me.version}"'
    )
    assert response.status_code == 200, response.content
    me.refresh_from_db()
    assert me.phone == "+49 30 1234"


@pytest.mark.parametrize("endpoint", PLATFORM)
@pytest.mark.parametrize("role", ROLES)
def test_only_auditors_and_admins_read_the_platform_records(world, api_as, endpoint, role):
    AuditEntry.objects.exists()  # the world's creation left entries to read
    response = api_as(getattr(world.people, role)).get(url(endpoint))
    if role in ("auditor", "admin"):
        assert response.status_code == 200
    else:
        assert_problem(response, 403)


@pytest.mark.parametrize("endpoint", PLATFORM)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_platform_records_are_read_only_even_for_admins(world, api_as, endpoint, method):
    target = url(endpoint) if method == "post" else url(endpoint, 1)
    assert_problem(getattr(api_as(world.people.admin), method)(target, {}, format="json"), 405)


# --- roles and teams --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("actor", "role", "allowed"),
    [
        ("manager", "agent", True),
        ("manager", "team_lead", True),
        ("manager", "manager", False),
        ("manager", "auditor", False),
        ("manager", "admin", False),
        ("admin", "manager", True),
        ("admin", "auditor", True),
        ("admin", "admin", True),
    ],
)
def test_only_admins_grant_manager_auditor_and_admin(world, api_as, actor, role, allowed):
    target = world.people.agent
    response = api_as(getattr(world.people, actor)).patch(
        url("users", target.pk), {"role": role}, format="json", HTTP_IF_MATCH=f'"{target.version}"'
    )
    target.refresh_from_db()
    if allowed:
        assert response.status_code == 200, response.content
        assert target.role == role
    else:
        assert_problem(response, 403, field="role")
        assert target.role == "agent"


def test_team_lead_adds_and_removes_members_of_their_own_team(world, api_as):
    client = api_as(world.people.lead)
    response = client.post(
        f"/api/v1/teams/{world.team.pk}/members/", {"user": world.people.agent.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert world.people.agent.pk in response.json()["members"]
    response = client.delete(f"/api/v1/teams/{world.team.pk}/members/{world.people.agent.pk}/")
    assert response.status_code == 204
    assert not world.team.members.filter(pk=world.people.agent.pk).exists()


def test_team_lead_cannot_change_another_teams_members(world, api_as):
    client = api_as(world.people.lead)
    response = client.post(
        f"/api/v1/teams/{world.other_team.pk}/members/", {"user": world.people.agent.pk}, format="json"
    )
    assert_problem(response, 403)
    assert not world.other_team.members.exists()


@pytest.mark.parametrize("role", ["requester", "agent", "auditor"])
def test_people_who_lead_no_team_cannot_change_members(world, api_as, role):
    client = api_as(getattr(world.people, role))
    response = client.post(
        f"/api/v1/teams/{world.team.pk}/members/", {"user": world.people.agent.pk}, format="json"
    )
    assert response.status_code == (404 if role == "requester" else 403)
    response = client.delete(f"/api/v1/teams/{world.team.pk}/members/{world.people.member.pk}/")
    assert response.status_code == (404 if role == "requester" else 403)
    assert set(world.team.members.all()) == {world.people.member}


def test_team_lead_maintains_skills_of_their_members_only(world, api_as):
    client = api_as(world.people.lead)
    mine = client.post(
        url("agent-skills"), {"user": world.people.member.pk, "skill": world.spare_skill.pk}, format="json"
    )
    assert mine.status_code == 201, mine.content
    theirs = client.post(
        url("agent-skills"), {"user": world.people.agent.pk, "skill": world.spare_skill.pk}, format="json"
    )
    assert_problem(theirs, 403)
    assert not AgentSkill.objects.filter(user=world.people.agent).exists()


def test_agent_records_their_own_absence_but_not_a_colleagues(world, api_as):
    client = api_as(world.people.agent)
    body = new_payload("absences", world)
    assert_problem(client.post(url("absences"), body, format="json"), 403)
    response = client.post(url("absences"), {**body, "user": world.people.agent.pk}, format="json")
    assert response.status_code == 201, response.content
    assert Absence.objects.filter(user=world.people.agent).count() == 1
