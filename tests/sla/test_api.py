"""Service levels over REST: policies and targets through their services, the timers list and a
ticket's clock. The rules themselves are tested on the services and the clock; these test the
contract (shapes, validation as 400 problems naming the field, If-Match, query counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.accounts.choices import Role
from opsdesk.sla.choices import MAX_TARGET_MINUTES, Metric, PolicyKind, TimerState
from opsdesk.sla.models import SlaAlert, SlaPolicy, SlaTarget, SlaTimer
from opsdesk.sla.services import sla_sweep
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Status
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.api.problems import assert_problem
from tests.portfolio.factories import CalendarFactory, ProviderFactory, ServiceFactory
from tests.sla.factories import ALWAYS, PolicyFactory, TargetFactory, policy_with_targets

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
POLICIES, TARGETS, TIMERS = "/api/v1/sla-policies/", "/api/v1/sla-targets/", "/api/v1/sla-timers/"


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def clock_url(number: str) -> str:
    return f"/api/v1/tickets/{number}/sla/"


@pytest.fixture
def desk(db):
    acme = OrganizationFactory(name="Acme")
    people = SimpleNamespace(
        requester=UserFactory(role=Role.REQUESTER, organization=acme),
        outsider=UserFactory(role=Role.REQUESTER, organization=OrganizationFactory(name="Globex")),
        agent=UserFactory(role=Role.AGENT),
        manager=UserFactory(role=Role.MANAGER),
        auditor=UserFactory(role=Role.AUDITOR),
        admin=UserFactory(role=Role.ADMIN),
    )
    team = TeamFactory(name="Service desk")
    TeamMembershipFactory(team=team, user=people.agent)
    calendar = CalendarFactory(name="24x7", working_hours=ALWAYS, time_zone="UTC")
    return SimpleNamespace(acme=acme, people=people, team=team, calendar=calendar)


def policy_body(desk, **fields) -> dict:
    return {"name": "Gold", "calendar": desk.calendar.pk, **fields}


# --- policies ---------------------------------------------------------------------------------------
def test_a_manager_creates_reads_updates_and_deletes_a_policy(api_as, desk):
    client = api_as(desk.people.manager)
    service = ServiceFactory(name="Email")
    created = client.post(
        POLICIES,
        policy_body(
            desk,
            description="For Acme",
            ticket_types=["incident"],
            priorities=[2, 1, 1],
            services=[service.pk],
            organizations=[desk.acme.pk],
            pause_reasons=["requester", "vendor"],
            thresholds=[90, 50],
        ),
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["ETag"] == '"1"'
    assert body["kind"] == "sla" and body["is_active"] is True
    assert (body["priorities"], body["thresholds"]) == ([1, 2], [50, 90, 100])
    assert (body["services"], body["organizations"], body["categories"]) == ([service.pk], [desk.acme.pk], [])
    assert body["calendar"] == desk.calendar.pk and body["targets"] == []

    policy = SlaPolicy.objects.get(pk=body["id"])
    TargetFactory(policy=policy, metric=Metric.RESOLUTION, priority=None, minutes=240)
    detail = client.get(f"{POLICIES}{policy.pk}/")
    assert detail.json()["targets"] == [
        {"id": policy.targets.get().pk, "metric": "resolution", "priority": None, "minutes": 240}
    ]

    changed = client.patch(
        f"{POLICIES}{policy.pk}/", {"services": [], "is_active": False}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["services"], changed.json()["is_active"], changed.json()["version"]) == (
        [],
        False,
        2,
    )
    assert changed["ETag"] == '"2"'

    assert client.delete(f"{POLICIES}{policy.pk}/", HTTP_IF_MATCH='"2"').status_code == 204
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_policy_filters_and_search(api_as, desk):
    email, web = ServiceFactory(name="Email"), ServiceFactory(name="Web")
    gold = PolicyFactory(name="Gold", calendar=desk.calendar)
    gold.services.set([email])
    PolicyFactory(name="Silver", calendar=desk.calendar, is_active=False)
    PolicyFactory(name="Desk OLA", kind=PolicyKind.OLA, team=desk.team, calendar=desk.calendar)
    client = api_as(desk.people.agent)

    def names(query: str) -> list[str]:
        response = client.get(f"{POLICIES}?{query}")
        assert response.status_code == 200, response.json()
        return sorted(item["name"] for item in response.json()["results"])

    assert names("kind=ola") == ["Desk OLA"]
    assert names("is_active=false") == ["Silver"]
    assert names(f"service={email.pk}") == ["Gold"] and names(f"service={web.pk}") == []
    assert names(f"team={desk.team.pk}") == ["Desk OLA"]
    assert names("search=silv") == ["Silver"]
    assert_problem(client.get(f"{POLICIES}?kind=xla"), 400, field="kind")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"calendar": 999_999}, "calendar"),
        ({"calendar": None}, "calendar"),
        ({"kind": "ola"}, "team"),
        ({"kind": "uc"}, "provider"),
        ({"team": "TEAM"}, "team"),
        ({"thresholds": 50}, "thresholds"),
        ({"thresholds": []}, "thresholds"),
        ({"thresholds": [0, 101]}, "thresholds"),
        ({"thresholds": ["50"]}, "thresholds"),
        ({"ticket_types": ["incident", "junk"]}, "ticket_types"),
        ({"ticket_types": "incident"}, "ticket_types"),
        ({"priorities": [9]}, "priorities"),
        ({"priorities": ["1"]}, "priorities"),
        ({"priorities": [True]}, "priorities"),
        ({"pause_reasons": ["coffee"]}, "pause_reasons"),
        ({"services": [999_999]}, "services"),
        ({"services": 1}, "services"),
        ({"on_reopen": "maybe"}, "on_reopen"),
        ({"targets": []}, "targets"),
        ({"colour": "gold"}, "colour"),
        ({"position": -1}, "position"),
    ],
)
def test_invalid_policies_are_400_problems_naming_the_field(api_as, desk, fields, field):
    response = api_as(desk.people.manager).post(POLICIES, policy_body(desk, **fields), format="json")
    assert_problem(response, 400, field=field)
    assert not SlaPolicy.objects.exists()


def test_policy_kind_rules_name_team_and_provider(api_as, desk):
    client = api_as(desk.people.manager)
    assert_problem(
        client.post(POLICIES, policy_body(desk, team=desk.team.pk), format="json"), 400, field="team"
    )
    provider = ProviderFactory(name="Telco")
    ola = client.post(POLICIES, policy_body(desk, name="OLA", kind="ola", team=desk.team.pk), format="json")
    uc = client.post(POLICIES, policy_body(desk, name="UC", kind="uc", provider=provider.pk), format="json")
    assert (ola.status_code, uc.status_code) == (201, 201), (ola.json(), uc.json())
    assert (ola.json()["team"], uc.json()["provider"]) == (desk.team.pk, provider.pk)
    duplicate = client.post(
        POLICIES, policy_body(desk, name="OLA", kind="ola", team=desk.team.pk), format="json"
    )
    assert_problem(duplicate, 400, field="name")


def test_a_stale_if_match_is_a_409_and_a_missing_one_a_428(api_as, desk):
    policy = PolicyFactory(name="Gold", calendar=desk.calendar)
    client = api_as(desk.people.manager)
    url = f"{POLICIES}{policy.pk}/"
    assert client.patch(url, {"name": "Gold 2"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    stale = client.patch(url, {"name": "Gold 3"}, format="json", HTTP_IF_MATCH='"1"')
    assert_problem(stale, 409)
    assert_problem(client.patch(url, {"name": "Gold 4"}, format="json"), 428)
    assert_problem(client.delete(url, HTTP_IF_MATCH='"1"'), 409)
    policy.refresh_from_db()
    assert (policy.name, policy.version) == ("Gold 2", 2)


def test_a_policy_that_timed_tickets_is_not_deleted_and_keeps_its_kind(api_as, desk):
    policy = policy_with_targets(name="Standard", calendar=desk.calendar)
    tickets.ticket_create(actor=desk.people.requester, title="Printer on fire")
    client = api_as(desk.people.manager)
    refused = assert_problem(client.delete(f"{POLICIES}{policy.pk}/"), 400)
    assert "deactivate it instead" in refused["detail"]
    kind = client.patch(
        f"{POLICIES}{policy.pk}/", {"kind": "ola", "team": desk.team.pk}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(kind, 400, field="kind")
    assert SlaPolicy.objects.filter(pk=policy.pk, kind=PolicyKind.SLA).exists()


# --- targets ----------------------------------------------------------------------------------------
def test_a_manager_keeps_targets(api_as, desk):
    policy = PolicyFactory(name="Gold", calendar=desk.calendar)
    client = api_as(desk.people.manager)
    created = client.post(
        TARGETS,
        {"policy": policy.pk, "metric": "first_response", "priority": 1, "minutes": 30},
        format="json",
    )
    assert created.status_code == 201, created.json()
    target = created.json()
    assert (target["policy"], target["metric"], target["priority"], target["minutes"]) == (
        policy.pk,
        "first_response",
        1,
        30,
    )
    general = client.post(
        TARGETS, {"policy": policy.pk, "metric": "first_response", "minutes": 60}, format="json"
    )
    assert general.status_code == 201 and general.json()["priority"] is None
    url = f"{TARGETS}{target['id']}/"
    changed = client.patch(url, {"minutes": 45}, format="json", HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200 and changed.json()["minutes"] == 45
    assert_problem(client.patch(url, {"minutes": 50}, format="json", HTTP_IF_MATCH='"1"'), 409)
    listed = client.get(f"{TARGETS}?policy={policy.pk}&metric=first_response").json()["results"]
    assert sorted(item["minutes"] for item in listed) == [45, 60]
    assert client.delete(url).status_code == 204
    assert list(SlaTarget.objects.values_list("minutes", flat=True)) == [60]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": -5}, "minutes"),
        ({"minutes": MAX_TARGET_MINUTES + 1}, "minutes"),
        ({"minutes": 2**40}, "minutes"),
        ({"minutes": "60"}, "minutes"),
        ({"minutes": None}, "minutes"),
        ({"metric": "lunch"}, "metric"),
        ({"priority": 9}, "priority"),
        ({"priority": "1"}, "priority"),
        ({"policy": 999_999}, "policy"),
    ],
)
def test_invalid_targets_are_400_problems_naming_the_field(api_as, desk, fields, field):
    policy = PolicyFactory(name="Gold", calendar=desk.calendar)
    body = {"policy": policy.pk, "metric": "resolution", "minutes": 60, **fields}
    assert_problem(api_as(desk.people.manager).post(TARGETS, body, format="json"), 400, field=field)
    assert not SlaTarget.objects.exists()


def test_uc_and_ola_targets_are_limited_to_their_metrics(api_as, desk):
    uc = PolicyFactory(name="UC", kind=PolicyKind.UC, provider=ProviderFactory(), calendar=desk.calendar)
    ola = PolicyFactory(name="OLA", kind=PolicyKind.OLA, team=desk.team, calendar=desk.calendar)
    client = api_as(desk.people.manager)
    for policy, metric in ((uc, "first_response"), (uc, "next_response"), (ola, "next_response")):
        response = client.post(TARGETS, {"policy": policy.pk, "metric": metric, "minutes": 60}, format="json")
        assert_problem(response, 400, field="metric")
    assert (
        client.post(
            TARGETS, {"policy": uc.pk, "metric": "resolution", "minutes": 60}, format="json"
        ).status_code
        == 201
    )
    assert not SlaTarget.objects.filter(policy=ola).exists()


@pytest.mark.parametrize("priority", [None, 2])
def test_a_second_target_for_the_same_cell_is_a_400_naming_priority(api_as, desk, priority):
    policy = PolicyFactory(name="Gold", calendar=desk.calendar)
    TargetFactory(policy=policy, metric=Metric.RESOLUTION, priority=priority, minutes=60)
    other = TargetFactory(policy=policy, metric=Metric.RESOLUTION, priority=3, minutes=90)
    client = api_as(desk.people.manager)
    body = {"policy": policy.pk, "metric": "resolution", "priority": priority, "minutes": 120}
    refused = assert_problem(client.post(TARGETS, body, format="json"), 400, field="priority")
    assert "Gold already has a resolution target" in refused["errors"]["priority"][0]
    moved = client.patch(f"{TARGETS}{other.pk}/", {"priority": priority}, format="json", HTTP_IF_MATCH='"1"')
    assert_problem(moved, 400, field="priority")
    assert SlaTarget.objects.count() == 2


def test_a_target_stays_with_its_policy(api_as, desk):
    target = TargetFactory(policy=PolicyFactory(calendar=desk.calendar))
    elsewhere = PolicyFactory(calendar=desk.calendar)
    response = api_as(desk.people.manager).patch(
        f"{TARGETS}{target.pk}/", {"policy": elsewhere.pk}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(response, 400, field="policy")


# --- timers and the ticket's clock ------------------------------------------------------------------
@pytest.fixture
def timed(desk):
    """A ticket under an SLA (first response 60, resolution 240) and the desk's OLA (30/20):
    assigned at 10 min, pending on the requester from 20 to 50 min, looked at at 80 min."""
    sla = policy_with_targets(name="Standard", calendar=desk.calendar, first_response=60, resolution=240)
    ola = policy_with_targets(
        name="Desk OLA",
        kind=PolicyKind.OLA,
        team=desk.team,
        calendar=desk.calendar,
        first_response=30,
        resolution=20,
    )
    with at(0):
        ticket = tickets.ticket_create(actor=desk.people.requester, title="VPN drops")
    with at(10):
        tickets.ticket_assign(
            actor=desk.people.agent, ticket=ticket, team=desk.team, assignee=desk.people.agent
        )
    with at(20):
        tickets.ticket_transition(
            actor=desk.people.agent, ticket=ticket, to=Status.PENDING, pending_reason="requester"
        )
    with at(50):
        tickets.ticket_reply(actor=desk.people.requester, ticket=ticket, body="Here is the log.")
    with at(70):
        sla_sweep()
    ticket.refresh_from_db()
    return SimpleNamespace(ticket=ticket, sla=sla, ola=ola)


def test_the_clock_shows_each_timer_measured_now_with_segments_and_alerts(api_as, desk, timed):
    with at(80):
        response = api_as(desk.people.agent).get(clock_url(timed.ticket.number))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["ticket"] == timed.ticket.number and body["no_sla_reason"] == []
    assert body["state"] == timed.ticket.sla_state and body["state"]
    by_key = {(item["policy"]["name"], item["metric"]): item for item in body["timers"]}
    assert {"sla", "ola"} == {item["policy"]["kind"] for item in body["timers"]}
    resolution = by_key["Standard", "resolution"]
    # 20 running, 30 paused (pending on the requester), 30 running since the reply.
    assert [segment["mode"] for segment in resolution["segments"]] == ["running", "paused", "running"]
    assert [segment["business_minutes"] for segment in resolution["segments"]] == [20, 0, 30]
    assert resolution["segments"][-1]["end"] is None
    assert (resolution["elapsed_minutes"], resolution["paused_minutes"], resolution["percent_used"]) == (
        50,
        30,
        20,
    )
    assert resolution["state"] == TimerState.RUNNING and resolution["target_minutes"] == 240
    assert resolution["policy"] == {"id": timed.sla.pk, "name": "Standard", "kind": "sla"}
    ola = by_key["Desk OLA", "resolution"]
    # Timed from the assignment: 10 running, 30 paused, 20 running by the sweep at 70.
    assert (ola["breached"], ola["elapsed_minutes"], ola["percent_used"]) == (True, 40, 200)
    assert [alert["percent"] for alert in ola["alerts"]] == [50, 75, 90, 100]
    assert ola["alerts"][-1]["reached_at"] == ola["breached_at"] == "2026-03-02T10:00:00Z"


def test_requesters_see_their_sla_timers_only_and_no_alerts(api_as, desk, timed):
    SlaAlert.objects.get_or_create(
        timer=SlaTimer.objects.get(ticket=timed.ticket, policy=timed.sla, metric=Metric.FIRST_RESPONSE),
        percent=50,
        defaults={"reached_at": T0 + timedelta(minutes=30)},
    )
    with at(80):
        body = api_as(desk.people.requester).get(clock_url(timed.ticket.number)).json()
        listed = api_as(desk.people.requester).get(TIMERS).json()["results"]
    assert body["timers"] and {item["policy"]["kind"] for item in body["timers"]} == {"sla"}
    assert all(item["alerts"] == [] for item in body["timers"])
    assert body["state"] in ("on_track", "warning")
    assert listed and {item["kind"] for item in listed} == {"sla"}
    assert all("team" not in item for item in listed)
    with at(80):
        assert_problem(api_as(desk.people.outsider).get(clock_url(timed.ticket.number)), 404)
    assert api_as(desk.people.outsider).get(TIMERS).json()["results"] == []


def test_a_ticket_without_sla_says_why_to_staff(api_as, desk):
    PolicyFactory(name="Globex only", calendar=desk.calendar).organizations.set([OrganizationFactory()])
    ticket = tickets.ticket_create(actor=desk.people.requester, title="Printer on fire")
    staff = api_as(desk.people.agent).get(clock_url(ticket.number)).json()
    assert staff == {
        "ticket": ticket.number,
        "state": "",
        "due_at": None,
        "no_sla_reason": [{"policy": "Globex only", "criterion": "organisation"}],
        "timers": [],
    }
    assert api_as(desk.people.requester).get(clock_url(ticket.number)).json()["no_sla_reason"] == []
    assert_problem(api_as(desk.people.agent).get(clock_url("INC99999999")), 404)


def test_timer_filters(api_as, desk, timed):
    client = api_as(desk.people.agent)

    def metrics(query: str) -> list[tuple[str, str]]:
        response = client.get(f"{TIMERS}?{query}")
        assert response.status_code == 200, response.json()
        return sorted((item["kind"], item["metric"]) for item in response.json()["results"])

    assert metrics(f"ticket={timed.ticket.number}&kind=ola") == [
        ("ola", "first_response"),
        ("ola", "resolution"),
    ]
    assert metrics(f"policy={timed.sla.pk}&metric=resolution") == [("sla", "resolution")]
    assert ("sla", "resolution") in metrics("state=running")
    assert metrics("breached=true") == [("ola", "resolution")]
    assert metrics("due_before=2026-03-02T09:00:00Z") == []
    assert ("sla", "resolution") in metrics("due_after=2026-03-02T09:00:00Z")
    assert metrics("ticket=INC0") == []
    assert_problem(client.get(f"{TIMERS}?due_before=yesterday"), 400, field="due_before")
    detail = client.get(f"{TIMERS}{SlaTimer.objects.filter(kind='ola').first().pk}/").json()
    assert detail["ticket"] == timed.ticket.number and detail["team"] == desk.team.pk


# --- query counts -----------------------------------------------------------------------------------
def _more_tickets(desk, count: int) -> None:
    for n in range(count):
        ticket = tickets.ticket_create(actor=desk.people.requester, title=f"T{n}")
        tickets.ticket_assign(actor=desk.people.agent, ticket=ticket, team=desk.team)


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_the_timers_list_queries_do_not_grow_with_rows(api_as, desk, role, django_assert_max_num_queries):
    policy_with_targets(name="Standard", calendar=desk.calendar)
    policy_with_targets(name="Desk OLA", kind=PolicyKind.OLA, team=desk.team, calendar=desk.calendar)
    client = api_as(getattr(desk.people, role))
    _more_tickets(desk, 2)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(TIMERS).json()["results"]) == (8 if role == "agent" else 4)
    _more_tickets(desk, 10)
    with django_assert_max_num_queries(len(few)):
        assert len(client.get(TIMERS).json()["results"]) == (48 if role == "agent" else 24)


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_the_clock_queries_are_bounded(api_as, desk, timed, role, django_assert_max_num_queries):
    client = api_as(getattr(desk.people, role))
    with django_assert_max_num_queries(8):
        assert client.get(clock_url(timed.ticket.number)).status_code == 200
