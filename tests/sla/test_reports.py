"""SLA performance reporting: the figures (exact counts, % met, means and 90th percentiles), every
grouping, the monthly trend, the staff screen with its charts and CSV, the customer's portal
report, the API (JSON, CSV, problem details) and who sees what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.sla.choices import Metric, PolicyKind, TimerState
from opsdesk.sla.models import SlaTimer
from opsdesk.sla.reports import compliance_report, nearest_rank, report_to_csv
from opsdesk.tickets import services
from opsdesk.tickets.models import Category, Ticket
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.portfolio.factories import ServiceFactory
from tests.sla.factories import PolicyFactory, policy_with_targets

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
QUERY = "start=2026-03-01&end=2026-03-31"


def make_timer(ticket, policy, *, metric, state, minutes=0, breached=False, started=T0, team=None):
    cycle = SlaTimer.objects.filter(ticket=ticket, policy=policy, metric=metric).count() + 1
    return SlaTimer.objects.create(
        ticket=ticket,
        policy=policy,
        calendar=policy.calendar,
        kind=policy.kind,
        metric=metric,
        cycle=cycle,
        team=team,
        target_minutes=30,
        state=state,
        started_at=started,
        stopped_at=None if state in (TimerState.RUNNING, TimerState.PAUSED) else started + timedelta(hours=1),
        elapsed_seconds=int(minutes * 60),
        breached=breached,
    )


@pytest.fixture
def agent(make_user):
    return make_user(role=Role.AGENT, username="agent")


@pytest.fixture
def world(make_user, agent):
    """Two organisations' tickets on two services, timed by hand with known results.

    Email (org A, tickets 1–4): resolution 10, 20, 30 met and 40 breached; first response 5 met,
    15 breached, one running already breached, one cancelled. VPN (org B, ticket 5): resolution
    60 met, first response paused. Outside the scope: an OLA timer and an April timer."""
    org_a = OrganizationFactory(name="Acme", requesters_see_organization=True)
    org_b = OrganizationFactory(name="Globex", requesters_see_organization=True)
    alice = make_user(username="alice", organization=org_a)
    bob = make_user(username="bob", organization=org_b)
    email, vpn = ServiceFactory(name="Email"), ServiceFactory(name="VPN")
    hardware = Category.objects.create(name="Hardware")
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    tickets = [
        services.ticket_create(actor=agent, requester=alice, title=f"Mail {n}", service=email)
        for n in range(4)
    ]
    tickets.append(services.ticket_create(actor=agent, requester=bob, title="VPN down", service=vpn))
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:2]]).update(priority=1, category=hardware)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[2:]]).update(priority=3, assigned_team=blue)
    sla = PolicyFactory(name="Gold", kind=PolicyKind.SLA)
    ola = PolicyFactory(name="Internal", kind=PolicyKind.OLA)
    t1, t2, t3, t4, t5 = tickets
    res, first = Metric.RESOLUTION, Metric.FIRST_RESPONSE
    make_timer(t1, sla, metric=res, state=TimerState.MET, minutes=10, team=red)
    make_timer(t2, sla, metric=res, state=TimerState.MET, minutes=20, team=red)
    make_timer(t3, sla, metric=res, state=TimerState.MET, minutes=30)
    make_timer(t4, sla, metric=res, state=TimerState.BREACHED, minutes=40, breached=True)
    make_timer(t1, sla, metric=first, state=TimerState.MET, minutes=5, team=red)
    make_timer(t2, sla, metric=first, state=TimerState.BREACHED, minutes=15, breached=True, team=red)
    make_timer(t3, sla, metric=first, state=TimerState.RUNNING, minutes=45, breached=True)
    make_timer(t4, sla, metric=first, state=TimerState.CANCELLED, minutes=1)
    make_timer(t5, sla, metric=res, state=TimerState.MET, minutes=60)
    make_timer(t5, sla, metric=first, state=TimerState.PAUSED, minutes=3)
    make_timer(t5, ola, metric=res, state=TimerState.BREACHED, minutes=99, breached=True)
    april = datetime(2026, 4, 2, tzinfo=UTC)
    make_timer(t5, sla, metric=Metric.NEXT_RESPONSE, state=TimerState.MET, minutes=1, started=april)
    return {"alice": alice, "bob": bob, "org_a": org_a, "org_b": org_b, "email": email, "vpn": vpn}


def figures(row):
    return (row.measured, row.met, row.breached, row.finished, row.pct_met, row.open, row.open_at_risk)


def times(row):
    return (row.respond_mean, row.respond_p90, row.resolve_mean, row.resolve_p90)


def by_label(report):
    return {row.label: row for row in report.rows}


# --- the figures -----------------------------------------------------------------------------


def test_per_service_counts_percent_met_means_and_percentiles_are_exact(world, agent):
    report = compliance_report(user=agent, group_by="service", **MARCH)
    rows = by_label(report)
    assert list(rows) == ["Email", "VPN"]
    # Email: 7 timers (the cancelled one left out), 4 met of 6 finished, 3 breached, 1 open at risk.
    assert figures(rows["Email"]) == (7, 4, 3, 6, 66.7, 1, 1)
    assert times(rows["Email"]) == (10.0, 15.0, 25.0, 40.0)
    assert figures(rows["VPN"]) == (2, 1, 0, 1, 100.0, 1, 0)
    assert times(rows["VPN"]) == (None, None, 60.0, 60.0)
    assert figures(report.totals) == (9, 5, 3, 7, 71.4, 2, 1)
    # resolution over both: 10, 20, 30, 40, 60 → mean 32, P90 the 5th of 5 (nearest rank)
    assert times(report.totals) == (10.0, 15.0, 32.0, 60.0)


def test_nearest_rank_percentile():
    assert nearest_rank([]) is None
    assert nearest_rank([7]) == 7
    assert nearest_rank(list(range(1, 11))) == 9
    assert nearest_rank(list(range(1, 12))) == 10
    assert nearest_rank([1, 2, 3, 4]) == 4


def test_metric_filter_keeps_one_metric(world, agent):
    report = compliance_report(user=agent, group_by="service", metric=Metric.RESOLUTION, **MARCH)
    assert figures(report.totals) == (5, 4, 1, 5, 80.0, 0, 0)
    assert times(report.totals) == (None, None, 32.0, 60.0)


P1_SET = (4, 3, 1, 4, 75.0, 0, 0)  # tickets 1–2: priority 1, Hardware, timers of team Red
P3_SET = (5, 2, 2, 3, 66.7, 2, 1)  # tickets 3–5: priority 3, no category, the ticket's team Blue


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        # a timer's own team first, else the ticket's assigned team
        ("team", {"Blue": P3_SET, "Red": P1_SET}),
        ("priority", {"P1 — critical": P1_SET, "P3 — moderate": P3_SET}),
        ("organization", {"Acme": (7, 4, 3, 6, 66.7, 1, 1), "Globex": (2, 1, 0, 1, 100.0, 1, 0)}),
        ("category", {"Hardware": P1_SET, "No category": P3_SET}),
        ("month", {"2026-03": (9, 5, 3, 7, 71.4, 2, 1)}),
    ],
)
def test_every_grouping(world, agent, group_by, expected):
    report = compliance_report(user=agent, group_by=group_by, **MARCH)
    assert {label: figures(row) for label, row in by_label(report).items()} == expected
    assert list(by_label(report)) == list(expected)  # in order, "no value" last
    assert figures(report.totals) == (9, 5, 3, 7, 71.4, 2, 1)


def test_the_month_trend_covers_every_month_in_the_site_time_zone(world, agent, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on 31 January is already February in Berlin
    ticket = Ticket.objects.get(title="VPN down")
    policy = PolicyFactory(name="Silver")
    late_january = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    make_timer(
        ticket,
        policy,
        metric=Metric.RESOLUTION,
        state=TimerState.BREACHED,
        minutes=90,
        breached=True,
        started=late_january,
    )
    report = compliance_report(user=agent, group_by="month", start=date(2026, 1, 1), end=date(2026, 4, 30))
    trend = {row.key: figures(row) for row in report.trend}
    assert list(trend) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert trend["2026-01"] == (0, 0, 0, 0, None, 0, 0)
    assert trend["2026-02"] == (1, 0, 1, 1, 0.0, 0, 0)
    assert trend["2026-03"] == (9, 5, 3, 7, 71.4, 2, 1)
    assert trend["2026-04"] == (1, 1, 0, 1, 100.0, 0, 0)
    assert [row.label for row in report.rows] == ["2026-02", "2026-03", "2026-04"]


def test_timers_the_clock_made_are_reported(make_user):
    # End to end: tickets through the desk's services, the clock timing them.
    agent = make_user(role=Role.AGENT)
    requester = make_user()
    policy_with_targets(name="Standard", first_response=60, resolution=240)
    with time_machine.travel(T0, tick=False):
        quick = services.ticket_create(actor=requester, title="Quick")
        slow = services.ticket_create(actor=requester, title="Slow")
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        services.ticket_reply(actor=agent, ticket=Ticket.objects.get(pk=quick.pk), body="On it.", public=True)
    with time_machine.travel(T0 + timedelta(minutes=90), tick=False):
        services.ticket_reply(actor=agent, ticket=Ticket.objects.get(pk=slow.pk), body="Sorry.", public=True)
        report = compliance_report(user=agent, group_by="month", metric=Metric.FIRST_RESPONSE, **MARCH)
    assert figures(report.totals) == (2, 1, 1, 2, 50.0, 0, 0)
    assert times(report.totals) == (60.0, 90.0, None, None)


# --- validation and who sees what -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"start": date(2026, 3, 31), "end": date(2026, 3, 1)}, "start"),
        ({"start": date(2022, 1, 1), "end": date(2025, 1, 2)}, "end"),
        ({"group_by": "weather"}, "group_by"),
        ({"kind": "xyz"}, "kind"),
        ({"metric": "speed"}, "metric"),
        ({"start": date(1, 1, 1), "end": date(1, 1, 2)}, "start"),
    ],
)
def test_bad_parameters_are_refused_with_the_field(agent, arguments, field):
    arguments = {**MARCH, "group_by": "service", **arguments}
    with pytest.raises(ServiceError) as caught:
        compliance_report(user=agent, **arguments)
    assert caught.value.field == field and caught.value.message


def test_three_years_exactly_is_allowed(agent):
    report = compliance_report(user=agent, group_by="month", start=date(2023, 3, 1), end=date(2026, 3, 1))
    assert len(report.trend) == 37 and report.is_empty


def test_a_requester_gets_their_organisations_sla_only(world):
    alice = world["alice"]
    report = compliance_report(user=alice, group_by="service", organization_id=world["org_b"].pk, **MARCH)
    assert report.organization_id == world["org_a"].pk
    assert [row.label for row in report.rows] == ["Email"]
    assert figures(report.totals) == (7, 4, 3, 6, 66.7, 1, 1)
    with pytest.raises(ServiceError) as caught:
        compliance_report(user=alice, group_by="service", kind=PolicyKind.OLA, **MARCH)
    assert caught.value.field == "kind"
    with pytest.raises(ServiceError):
        compliance_report(user=alice, group_by="team", **MARCH)


def test_a_requester_without_organisation_gets_no_report(make_user):
    loner = make_user(organization=None)
    with pytest.raises(NotAllowed):
        compliance_report(user=loner, group_by="month", **MARCH)


def test_a_requester_whose_organisation_does_not_share_sees_their_own_tickets_only(world):
    world["org_a"].requesters_see_organization = False
    world["org_a"].save()
    Ticket.objects.filter(title__in=["Mail 1", "Mail 2", "Mail 3"]).update(requester=world["bob"])
    report = compliance_report(user=world["alice"], group_by="service", **MARCH)
    assert figures(report.totals) == (2, 2, 0, 2, 100.0, 0, 0)  # Mail 0: resolution and first response


def test_the_query_count_does_not_grow_with_timers_or_groups(world, agent, django_assert_num_queries):
    with django_assert_num_queries(4):
        compliance_report(user=agent, group_by="team", **MARCH)
    ticket = Ticket.objects.get(title="VPN down")
    for n in range(20):
        policy = PolicyFactory(name=f"Extra {n}")
        make_timer(
            ticket, policy, metric=Metric.RESOLUTION, state=TimerState.MET, minutes=n, team=TeamFactory()
        )
    with django_assert_num_queries(4):
        report = compliance_report(user=agent, group_by="team", **MARCH)
    assert len(report.rows) == 22


# --- CSV --------------------------------------------------------------------------------------------


def read_csv(text):
    return list(csv.reader(io.StringIO(text)))


def test_csv_has_a_header_a_row_per_group_and_totals(world, agent):
    rows = read_csv(report_to_csv(compliance_report(user=agent, group_by="service", **MARCH)))
    assert rows[0][:6] == ["Group", "Timers measured", "Met", "Breached", "Finished", "% met"]
    assert rows[1] == ["Email", "7", "4", "3", "6", "66.7", "1", "1", "10.0", "15.0", "25.0", "40.0"]
    assert rows[2] == ["VPN", "2", "1", "0", "1", "100.0", "1", "0", "", "", "60.0", "60.0"]
    assert rows[3][:2] == ["Total", "9"] and len(rows) == 4


def test_csv_defuses_formulas(world, agent):
    world["email"].name = '=HYPERLINK("http://evil")'
    world["email"].save()
    world["vpn"].name = "@SUM(A1)"
    world["vpn"].save()
    rows = read_csv(report_to_csv(compliance_report(user=agent, group_by="service", **MARCH)))
    labels = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in labels and "'@SUM(A1)" in labels


# --- the staff screen ---------------------------------------------------------------------------------


def test_the_staff_screen_shows_the_charts_and_table(world, agent, client, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sla_reports:compliance") + "?period=custom&" + QUERY)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        'id="sla-report-data"' in body
        and 'data-sla-chart="bars"' in body
        and 'data-sla-chart="trend"' in body
    )
    assert "vendor/chartjs/chart.umd.min.js" in body and "<script>" not in body
    assert "Email" in body and "66.7 %" in body and "Download CSV" in body
    data = response.context["chart_data"]
    assert data["bars"] == {"labels": ["Email", "VPN"], "pct_met": [66.7, 100.0]}
    assert data["trend"]["labels"] == ["2026-03"] and data["trend"]["measured"] == [9]


def test_the_staff_screen_presets(world, agent, client):
    client.force_login(agent)
    with time_machine.travel(datetime(2026, 4, 15, 12, tzinfo=UTC), tick=False):
        response = client.get(
            reverse("sla_reports:compliance"), {"period": "last_month", "group_by": "priority"}
        )
    report = response.context["report"]
    assert (report.start, report.end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert report.totals.measured == 9


def test_the_staff_screen_downloads_csv(world, agent, client):
    client.force_login(agent)
    for url in (
        reverse("sla_reports:compliance") + "?format=csv&period=custom&" + QUERY,
        reverse("sla_reports:compliance_csv") + "?period=custom&" + QUERY,
    ):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        assert read_csv(response.content.decode())[1][0] == "Email"


def test_the_staff_screen_empty_state(agent, client):
    client.force_login(agent)
    response = client.get(reverse("sla_reports:compliance"))
    assert response.status_code == 200
    assert "No SLA policy has timed any ticket in this period" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-03-31&end=2026-03-01",
        "period=custom&start=2020-01-01&end=2026-03-01",
        "period=custom&start=2026-03-01",
        "group_by=weather",
        "period=someday",
    ],
)
def test_the_staff_screen_shows_bad_filters_as_form_errors(agent, client, query):
    client.force_login(agent)
    response = client.get(reverse("sla_reports:compliance") + "?" + query)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert client.get(reverse("sla_reports:compliance_csv") + "?" + query).status_code == 400


def test_requesters_may_not_open_the_staff_screen(world, client):
    client.force_login(world["alice"])
    assert client.get(reverse("sla_reports:compliance")).status_code == 403
    assert client.get(reverse("sla_reports:compliance_csv")).status_code == 403


# --- the portal ---------------------------------------------------------------------------------------


def test_the_portal_links_to_the_organisation_report(world, client):
    client.force_login(world["alice"])
    body = client.get(reverse("portal")).content.decode()
    assert reverse("sla_reports:organization") in body and "Our service levels" in body


def test_a_requester_sees_their_organisations_report_only(world, client):
    client.force_login(world["alice"])
    url = reverse("sla_reports:organization")
    response = client.get(
        url,
        {"period": "custom", "start": "2026-03-01", "end": "2026-03-31", "organization": world["org_b"].pk},
    )
    assert response.status_code == 200
    by_month, by_service = response.context["by_month"], response.context["by_service"]
    assert by_month.organization_id == world["org_a"].pk
    assert [row.label for row in by_service.rows] == ["Email"]
    assert figures(by_month.totals) == (7, 4, 3, 6, 66.7, 1, 1)
    body = response.content.decode()
    assert "Acme" in body and "Globex" not in body and "VPN" not in body
    assert 'data-sla-chart="trend"' in body


def test_a_requester_without_organisation_is_told_why(make_user, client):
    client.force_login(make_user(organization=None))
    response = client.get(reverse("sla_reports:organization"))
    assert response.status_code == 200
    assert "does not belong to one" in response.content.decode()
    assert response.context["by_month"] is None


def test_staff_choose_the_organisation(world, agent, client):
    client.force_login(agent)
    url = reverse("sla_reports:organization")
    assert "Choose the organisation" in client.get(url).content.decode()
    response = client.get(
        url,
        {"organization": world["org_b"].pk, "period": "custom", "start": "2026-03-01", "end": "2026-03-31"},
    )
    assert [row.label for row in response.context["by_service"].rows] == ["VPN"]
    assert "no such organisation" in client.get(url, {"organization": "999999"}).content.decode()


# --- the API ------------------------------------------------------------------------------------------

API = "/api/v1/sla/report/"


def test_api_json(world, agent, api_as):
    response = api_as(agent).get(API, {"start": "2026-03-01", "end": "2026-03-31", "group_by": "service"})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": "2026-03-01", "end": "2026-03-31"}
    assert body["group_by"] == "service" and body["kind"] == "sla"
    email = body["rows"][0]
    assert email["label"] == "Email" and email["key"] == str(world["email"].pk)
    assert (email["measured"], email["met"], email["breached"], email["pct_met"]) == (7, 4, 3, 66.7)
    assert (email["respond_p90"], email["resolve_p90"]) == (15.0, 40.0)
    assert body["totals"]["measured"] == 9
    assert [row["key"] for row in body["trend"]] == ["2026-03"]


def test_api_csv_by_format_or_accept(world, agent, api_as):
    client = api_as(agent)
    for response in (
        client.get(API, {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"}),
        client.get(API, {"start": "2026-03-01", "end": "2026-03-31"}, HTTP_ACCEPT="text/csv"),
    ):
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = read_csv(response.content.decode())
        assert rows[0][0] == "Group" and rows[-1][:2] == ["Total", "9"]


def test_api_requester_gets_their_organisation_whatever_they_ask(world, api_as):
    response = api_as(world["alice"]).get(
        API, {"start": "2026-03-01", "end": "2026-03-31", "organization": world["org_b"].pk}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == world["org_a"].pk
    assert [row["label"] for row in body["rows"]] == ["Email"] and body["totals"]["measured"] == 7
    refused = api_as(world["alice"]).get(API, {"kind": "ola"})
    assert refused.status_code == 400 and "kind" in refused.json()["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-31", "end": "2026-03-01"}, "start"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "end"),
        ({"group_by": "weather"}, "group_by"),
        ({"metric": "speed"}, "metric"),
        ({"start": "yesterday"}, "start"),
        ({"organization": "0"}, "organization"),
    ],
)
def test_api_bad_parameters_are_problem_details(agent, api_as, query, field):
    response = api_as(agent).get(API, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    csv_response = api_as(agent).get(API, {**query, "format": "csv"})
    assert csv_response.status_code == 400
    assert csv_response["Content-Type"].startswith("application/problem+json")


def test_api_requester_without_organisation_is_refused(make_user, api_as):
    response = api_as(make_user(organization=None)).get(API)
    assert response.status_code == 403


def test_huge_organisation_ids_are_refused_cleanly(agent, client):
    client.force_login(agent)
    huge = "9" * 30
    assert client.get(reverse("sla_reports:compliance"), {"organization": huge}).status_code == 400
    response = client.get(reverse("sla_reports:organization"), {"organization": huge})
    assert response.status_code == 200 and "no such organisation" in response.content.decode()
