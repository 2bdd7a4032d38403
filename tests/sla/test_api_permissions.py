"""Who may do what with service levels over REST: administrators and managers keep policies and
targets; agents and auditors read them; requesters are refused them, see only the SLA timers of
their own tickets and never another requester's clock."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.sla.choices import Metric, PolicyKind
from opsdesk.sla.models import SlaPolicy, SlaTarget
from opsdesk.tickets import services as tickets
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.api.problems import assert_problem
from tests.portfolio.factories import CalendarFactory
from tests.sla.factories import ALWAYS, TargetFactory, policy_with_targets

pytestmark = pytest.mark.django_db

STAFF_READERS = ("agent", "auditor", "manager", "admin")
WRITERS = ("manager", "admin")


@pytest.fixture
def world(db):
    people = SimpleNamespace(
        requester=UserFactory(role=Role.REQUESTER, organization=OrganizationFactory(name="Acme")),
        outsider=UserFactory(role=Role.REQUESTER, organization=OrganizationFactory(name="Globex")),
        agent=UserFactory(role=Role.AGENT),
        lead=UserFactory(role=Role.TEAM_LEAD),
        auditor=UserFactory(role=Role.AUDITOR),
        manager=UserFactory(role=Role.MANAGER),
        admin=UserFactory(role=Role.ADMIN),
    )
    team = TeamFactory(name="Service desk", lead=people.lead)
    TeamMembershipFactory(team=team, user=people.agent)
    calendar = CalendarFactory(working_hours=ALWAYS, time_zone="UTC")
    sla = policy_with_targets(name="Standard", calendar=calendar)
    ola = policy_with_targets(name="Desk OLA", kind=PolicyKind.OLA, team=team, calendar=calendar)
    mine = tickets.ticket_create(actor=people.requester, title="Mine")
    tickets.ticket_assign(actor=people.agent, ticket=mine, team=team)
    theirs = tickets.ticket_create(actor=people.outsider, title="Theirs")
    return SimpleNamespace(
        people=people, team=team, calendar=calendar, sla=sla, ola=ola, mine=mine, theirs=theirs
    )


def _policy_body(world, name: str) -> dict:
    return {"name": name, "calendar": world.calendar.pk}


@pytest.mark.parametrize("role", STAFF_READERS)
def test_staff_read_policies_and_targets(world, api_as, role):
    client = api_as(getattr(world.people, role))
    names = sorted(item["name"] for item in client.get("/api/v1/sla-policies/").json()["results"])
    assert names == ["Desk OLA", "Standard"]
    assert client.get(f"/api/v1/sla-policies/{world.sla.pk}/").status_code == 200
    assert len(client.get("/api/v1/sla-targets/").json()["results"]) == 4


@pytest.mark.parametrize("role", WRITERS)
def test_managers_and_admins_write_policies_and_targets(world, api_as, role):
    client = api_as(getattr(world.people, role))
    created = client.post("/api/v1/sla-policies/", _policy_body(world, f"By {role}"), format="json")
    assert created.status_code == 201, created.json()
    policy_id = created.json()["id"]
    target = client.post(
        "/api/v1/sla-targets/", {"policy": policy_id, "metric": "resolution", "minutes": 60}, format="json"
    )
    assert target.status_code == 201, target.json()
    assert client.delete(f"/api/v1/sla-targets/{target.json()['id']}/").status_code == 204
    assert client.delete(f"/api/v1/sla-policies/{policy_id}/").status_code == 204


@pytest.mark.parametrize("role", ("agent", "lead", "auditor"))
def test_agents_leads_and_auditors_change_nothing(world, api_as, role):
    client = api_as(getattr(world.people, role))
    target = world.sla.targets.first()
    assert_problem(client.post("/api/v1/sla-policies/", _policy_body(world, "Nope"), format="json"), 403)
    assert_problem(
        client.patch(
            f"/api/v1/sla-policies/{world.sla.pk}/", {"name": "X"}, format="json", HTTP_IF_MATCH='"1"'
        ),
        403,
    )
    assert_problem(client.delete(f"/api/v1/sla-policies/{world.sla.pk}/"), 403)
    assert_problem(
        client.post(
            "/api/v1/sla-targets/",
            {"policy": world.sla.pk, "metric": "next_response", "minutes": 5},
            format="json",
        ),
        403,
    )
    assert_problem(
        client.patch(f"/api/v1/sla-targets/{target.pk}/", {"minutes": 5}, format="json", HTTP_IF_MATCH='"1"'),
        403,
    )
    assert_problem(client.delete(f"/api/v1/sla-targets/{target.pk}/"), 403)
    assert SlaPolicy.objects.get(pk=world.sla.pk).name == "Standard"
    assert SlaTarget.objects.count() == 4


def test_requesters_are_refused_policies_and_targets(world, api_as):
    client = api_as(world.people.requester)
    target = TargetFactory(policy=world.sla, metric=Metric.NEXT_RESPONSE, minutes=30)
    for url in (
        "/api/v1/sla-policies/",
        f"/api/v1/sla-policies/{world.sla.pk}/",
        "/api/v1/sla-targets/",
        f"/api/v1/sla-targets/{target.pk}/",
    ):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert "Standard" not in response.content.decode()
    assert_problem(client.post("/api/v1/sla-policies/", _policy_body(world, "Mine"), format="json"), 403)
    assert not SlaPolicy.objects.filter(name="Mine").exists()


def test_anonymous_is_asked_to_authenticate(world, api_client):
    for url in ("/api/v1/sla-policies/", "/api/v1/sla-timers/", f"/api/v1/tickets/{world.mine.number}/sla/"):
        assert_problem(api_client.get(url), 401)


def test_requesters_see_only_the_sla_timers_of_their_own_tickets(world, api_as):
    client = api_as(world.people.requester)
    timers = client.get("/api/v1/sla-timers/").json()["results"]
    assert timers and {(item["ticket"], item["kind"]) for item in timers} == {(world.mine.number, "sla")}
    ola_timer = world.mine.sla_timers.get(kind=PolicyKind.OLA, metric=Metric.RESOLUTION)
    assert_problem(client.get(f"/api/v1/sla-timers/{ola_timer.pk}/"), 404)
    their_timer = world.theirs.sla_timers.first()
    assert_problem(client.get(f"/api/v1/sla-timers/{their_timer.pk}/"), 404)
    assert client.get(f"/api/v1/sla-timers/?ticket={world.theirs.number}").json()["results"] == []
    assert client.get("/api/v1/sla-timers/?kind=ola").json()["results"] == []

    clock = client.get(f"/api/v1/tickets/{world.mine.number}/sla/")
    assert clock.status_code == 200
    assert {item["policy"]["kind"] for item in clock.json()["timers"]} == {"sla"}
    assert "Desk OLA" not in clock.content.decode()
    assert_problem(client.get(f"/api/v1/tickets/{world.theirs.number}/sla/"), 404)


@pytest.mark.parametrize("role", STAFF_READERS)
def test_staff_see_every_timer_and_clock(world, api_as, role):
    client = api_as(getattr(world.people, role))
    kinds = {item["kind"] for item in client.get("/api/v1/sla-timers/").json()["results"]}
    assert kinds == {"sla", "ola"}
    clock = client.get(f"/api/v1/tickets/{world.mine.number}/sla/").json()
    assert {item["policy"]["kind"] for item in clock["timers"]} == {"sla", "ola"}
    assert client.get(f"/api/v1/tickets/{world.theirs.number}/sla/").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_timers_are_read_only_for_everyone(world, api_as, method):
    timer = world.mine.sla_timers.first()
    client = api_as(world.people.admin)
    url = "/api/v1/sla-timers/" if method == "post" else f"/api/v1/sla-timers/{timer.pk}/"
    assert_problem(getattr(client, method)(url, {}, format="json"), 405)
    assert_problem(client.post(f"/api/v1/tickets/{world.mine.number}/sla/", {}, format="json"), 405)
