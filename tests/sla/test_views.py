"""The service-level screens: policies and targets (managers keep them, other staff read,
requesters are refused), the SLA panel of a ticket, the requester's promise line and the
queues' "Due" column."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.sla.choices import Metric, PolicyKind, TicketSlaState
from opsdesk.sla.models import SlaPolicy, SlaTarget
from opsdesk.sla.services import timers_recompute
from opsdesk.sla.templatetags.sla import duration_text, sla_due
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket
from tests.accounts.factories import TeamFactory, TeamMembershipFactory
from tests.portfolio.factories import CalendarFactory, ProviderFactory
from tests.sla.factories import ALWAYS, PolicyFactory, TargetFactory, policy_with_targets

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


@pytest.fixture
def manager(make_user):
    return make_user(role=Role.MANAGER, username="mona")


@pytest.fixture
def agent(make_user):
    return make_user(role=Role.AGENT, username="anna")


@pytest.fixture
def auditor(make_user):
    return make_user(role=Role.AUDITOR, username="aldo")


@pytest.fixture
def requester(make_user):
    return make_user(username="rita")


@pytest.fixture
def team(agent):
    team = TeamFactory(name="Service desk")
    TeamMembershipFactory(team=team, user=agent)
    return team


@pytest.fixture
def calendar(db):
    return CalendarFactory(name="Always open", working_hours=ALWAYS, time_zone="UTC")


def signed_in(client, user):
    client.force_login(user)
    return client


def policy_post(calendar, **overrides):
    data = {
        "name": "Gold",
        "kind": "sla",
        "description": "",
        "is_active": "on",
        "position": "100",
        "calendar": str(calendar.pk),
        "pause_reasons": ["requester"],
        "on_reopen": "continue",
        "thresholds": "50, 75, 90",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def text(response) -> str:
    """The page's visible text, whitespace collapsed (what a reader sees)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- policies: list, detail, create, edit, delete ----------------------------------------------
def test_the_empty_list_explains_sla_ola_and_uc(client, manager):
    response = signed_in(client, manager).get(reverse("sla:policy_list"))
    assert response.status_code == 200
    page = text(response)
    assert "No service-level policy yet" in page
    assert "SLA (to customers)" in page and "OLA (between internal teams)" in page
    assert "UC (with an external provider)" in page
    assert reverse("sla:policy_create") in response.content.decode()


def test_the_list_groups_policies_by_kind_with_calendar_criteria_and_targets(
    client, agent, team, calendar, django_assert_max_num_queries
):
    policy_with_targets(name="Gold", priorities=[1, 2], first_response=30, resolution=240)
    PolicyFactory(name="Desk OLA", kind=PolicyKind.OLA, team=team, is_active=False)
    for number in range(5):
        policy_with_targets(name=f"Extra {number}")
    signed_in(client, agent)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sla:policy_list"))
    page = text(response)
    assert page.index("SLA (to customers)") < page.index("Gold") < page.index("OLA (between internal teams)")
    assert "priority P1, P2" in page
    assert "First response any priority: 30m" in page and "Resolution any priority: 4h" in page
    assert "while with Service desk" in page and "Inactive" in page
    assert "No target yet" in page  # the OLA has none
    # An agent reads but is offered no way to add.
    assert reverse("sla:policy_create") not in response.content.decode()


def test_a_manager_creates_a_policy_through_the_form(client, manager, calendar):
    response = signed_in(client, manager).post(
        reverse("sla:policy_create"), policy_post(calendar, priorities=["1", "2"])
    )
    policy = SlaPolicy.objects.get(name="Gold")
    assert response.status_code == 302 and response["Location"] == policy.get_absolute_url()
    assert policy.priorities == [1, 2] and policy.thresholds == [50, 75, 90, 100]
    assert policy.pause_reasons == ["requester"] and policy.calendar == calendar
    page = text(client.get(policy.get_absolute_url()))
    assert "Gold" in page and "50 %" in page and "100 % breach" in page
    assert "waiting on the requester" in page and "Continue the clock" in page
    assert "No target yet" in page and "Add a target" in page


def test_an_ola_without_a_team_is_refused_on_the_form(client, manager, calendar):
    response = signed_in(client, manager).post(
        reverse("sla:policy_create"), policy_post(calendar, kind="ola")
    )
    assert response.status_code == 400
    assert "An OLA times the work of one team: pick the team." in text(response)
    assert not SlaPolicy.objects.exists()
    # What was typed is still there.
    assert 'value="Gold"' in response.content.decode()


def test_bad_thresholds_are_refused_with_a_clear_message(client, manager, calendar):
    response = signed_in(client, manager).post(
        reverse("sla:policy_create"), policy_post(calendar, thresholds="50, 150")
    )
    assert response.status_code == 400
    assert "150" in text(response) and "not a whole percentage from 1 to 100" in text(response)


def test_editing_with_a_stale_version_says_someone_else_changed_it(client, manager, calendar):
    policy = PolicyFactory(name="Gold", calendar=calendar)
    signed_in(client, manager)
    url = reverse("sla:policy_edit", args=[policy.pk])
    form = client.get(url)
    assert f'name="version" value="{policy.version}"' in form.content.decode()
    client.post(url, {**policy_post(calendar, name="Gold 2"), "version": policy.version})
    stale = client.post(url, {**policy_post(calendar, name="Platinum"), "version": policy.version})
    assert stale.status_code == 409
    page = text(stale)
    assert "Someone else changed this while you were editing" in page and "Nothing was saved" in page
    assert 'value="Platinum"' in stale.content.decode()  # the user's input is kept
    policy.refresh_from_db()
    assert policy.name == "Gold 2"


def test_a_policy_that_timed_tickets_cannot_change_kind_or_be_deleted(client, manager, requester, calendar):
    policy = policy_with_targets(name="Gold")
    services.ticket_create(actor=requester, title="Printer on fire")
    signed_in(client, manager)
    response = client.post(
        reverse("sla:policy_edit", args=[policy.pk]),
        {
            **policy_post(policy.calendar, name="Gold", kind="uc", provider=ProviderFactory().pk),
            "version": policy.version,
        },
    )
    assert response.status_code == 400
    assert "A policy that has timed tickets keeps its kind" in text(response)
    refused = client.post(reverse("sla:policy_delete", args=[policy.pk]), {"version": policy.version})
    assert refused.status_code == 400
    assert "deactivate it instead" in text(refused)
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()
    assert text(client.get(policy.get_absolute_url())).count("Open timers 2") == 1


def test_a_manager_deletes_an_unused_policy(client, manager, calendar):
    policy = PolicyFactory(name="Old", calendar=calendar)
    response = signed_in(client, manager).post(
        reverse("sla:policy_delete", args=[policy.pk]), {"version": policy.version}
    )
    assert response.status_code == 302 and response["Location"] == reverse("sla:policy_list")
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


# --- targets ---------------------------------------------------------------------------------------
def test_a_manager_adds_edits_and_deletes_a_target_from_the_policy_page(client, manager, calendar):
    policy = PolicyFactory(name="Gold", calendar=calendar)
    signed_in(client, manager)
    add = reverse("sla:target_create") + f"?policy={policy.pk}"
    assert f'value="{policy.pk}"' in client.get(add).content.decode()
    response = client.post(
        add, {"policy": policy.pk, "metric": "resolution", "priority": "", "minutes": "480"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#targets")
    target = SlaTarget.objects.get(policy=policy)
    assert (target.metric, target.priority, target.minutes) == (Metric.RESOLUTION, None, 480)
    assert "8h" in text(client.get(policy.get_absolute_url()))

    edit = reverse("sla:target_edit", args=[target.pk])
    client.post(edit, {"metric": "resolution", "priority": "1", "minutes": "120", "version": target.version})
    target.refresh_from_db()
    assert (target.priority, target.minutes, target.policy_id) == (1, 120, policy.pk)

    client.post(reverse("sla:target_delete", args=[target.pk]), {"version": target.version})
    assert not SlaTarget.objects.filter(pk=target.pk).exists()


def test_a_target_is_added_from_its_policy_only(client, manager):
    signed_in(client, manager)
    assert client.get(reverse("sla:target_create")).status_code == 404
    assert client.get(reverse("sla:target_create") + "?policy=999").status_code == 404


def test_a_zero_minute_target_is_refused(client, manager, calendar):
    policy = PolicyFactory(name="Gold", calendar=calendar)
    response = signed_in(client, manager).post(
        reverse("sla:target_create") + f"?policy={policy.pk}",
        {"policy": policy.pk, "metric": "resolution", "priority": "", "minutes": "0"},
    )
    assert response.status_code == 400
    assert "A target is a whole number of business minutes from 1 to" in text(response)
    assert not SlaTarget.objects.exists()


def test_a_second_target_for_the_same_cell_is_refused(client, manager, calendar):
    target = TargetFactory(policy=PolicyFactory(calendar=calendar), metric=Metric.RESOLUTION, priority=None)
    response = signed_in(client, manager).post(
        reverse("sla:target_create") + f"?policy={target.policy_id}",
        {"policy": target.policy_id, "metric": "resolution", "priority": "", "minutes": "60"},
    )
    assert response.status_code == 400
    assert SlaTarget.objects.count() == 1


def test_a_uc_takes_resolution_targets_only(client, manager, calendar):
    policy = PolicyFactory(calendar=calendar, kind=PolicyKind.UC, provider=ProviderFactory())
    response = signed_in(client, manager).post(
        reverse("sla:target_create") + f"?policy={policy.pk}",
        {"policy": policy.pk, "metric": "first_response", "priority": "", "minutes": "60"},
    )
    assert response.status_code == 400
    assert "resolution only" in text(response)


# --- who may do what ---------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.AGENT, Role.AUDITOR])
def test_other_staff_read_without_edit_buttons_and_may_not_write(client, make_user, role, calendar):
    user = make_user(role=role)
    policy = policy_with_targets(name="Gold")
    target = policy.targets.first()
    signed_in(client, user)
    page = client.get(policy.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    for name, args in (
        ("sla:policy_edit", [policy.pk]),
        ("sla:policy_delete", [policy.pk]),
        ("sla:target_edit", [target.pk]),
        ("sla:target_delete", [target.pk]),
    ):
        assert reverse(name, args=args) not in html
    assert "Add a target" not in html
    assert client.post(reverse("sla:policy_create"), policy_post(calendar)).status_code == 403
    edit = client.post(reverse("sla:policy_edit", args=[policy.pk]), {**policy_post(calendar), "version": 1})
    assert edit.status_code == 403
    assert client.post(reverse("sla:policy_delete", args=[policy.pk]), {"version": 1}).status_code == 403
    assert (
        client.post(
            reverse("sla:target_create") + f"?policy={policy.pk}",
            {"policy": policy.pk, "metric": "resolution", "minutes": "5"},
        ).status_code
        == 403
    )
    assert client.post(reverse("sla:target_delete", args=[target.pk])).status_code == 403
    assert SlaPolicy.objects.count() == 1 and SlaTarget.objects.count() == 2


def test_requesters_and_visitors_are_refused(client, requester):
    policy = policy_with_targets(name="Gold")
    assert client.get(reverse("sla:policy_list")).status_code == 302  # sign in first
    signed_in(client, requester)
    assert client.get(reverse("sla:policy_list")).status_code == 403
    assert client.get(policy.get_absolute_url()).status_code == 404
    assert client.get(reverse("sla:policy_edit", args=[policy.pk])).status_code == 404
    assert client.post(reverse("sla:policy_create"), {}).status_code == 403


def test_the_navigation_offers_service_levels_to_staff_only(client, agent, requester):
    staff_page = signed_in(client, agent).get(reverse("sla:policy_list")).content.decode()
    assert "Service levels" in staff_page and f'href="{reverse("sla:policy_list")}"' in staff_page
    client.logout()
    portal = signed_in(client, requester).get(reverse("portal")).content.decode()
    assert reverse("sla:policy_list") not in portal


# --- the SLA panel of a ticket --------------------------------------------------------------------
def test_the_panel_shows_each_timer_its_reason_and_time_left(client, agent, requester, team):
    policy_with_targets(name="Gold", first_response=60, resolution=240)
    with at(0):
        ticket = services.ticket_create(actor=requester, title="Printer on fire")
    signed_in(client, agent)
    with at(110):
        page = text(client.get(reverse("tickets:detail", args=[ticket.number])))
    assert "Service levels" in page and "Gold SLA" in page
    assert "Covers every ticket (no criteria)" in page
    assert "Resolution" in page and "2h 10m left" in page  # 240 - 110 minutes
    assert "Overdue by 50m" in page  # the first response was due at 60
    assert "Mon 02 Mar 2026, 13:00" in page and "(UTC)" in page
    assert "SLA timeline (1 segment" in page


def test_the_panel_lists_the_segments_after_a_pause_and_the_viewers_time_zone(
    client, make_user, requester, team, django_assert_max_num_queries
):
    agent = make_user(role=Role.AGENT, username="paris", time_zone="Europe/Paris")
    TeamMembershipFactory(team=team, user=agent)
    policy_with_targets(name="Gold", first_response=0, resolution=240)
    with at(0):
        ticket = services.ticket_create(actor=requester, title="Printer on fire")
    with at(30):
        services.ticket_assign(actor=agent, ticket=ticket, team=team, assignee=agent)
    with at(60):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="requester")
    ticket.refresh_from_db()
    with at(180):
        services.ticket_reply(actor=requester, ticket=ticket, body="Here is the log.")
    signed_in(client, agent)
    with at(200):
        response = client.get(reverse("tickets:detail", args=[ticket.number]))
    page = text(response)
    assert "SLA timeline (3 segments" in page
    assert "Running" in page and "Paused" in page
    segment_reasons = re.findall(r'class="sla-segment sla-segment-(\w+)"', response.content.decode())
    assert segment_reasons == ["running", "paused", "running"]
    assert "Paused for 2h" in page and "Waiting on the requester" in page
    # 60 + 20 business minutes used, due at 180 + 180 min = 15:00 UTC = 16:00 in Paris.
    assert "1h 20m of 4h used (33 %)" in page and "2h 40m left" in page
    assert "Mon 02 Mar 2026, 16:00" in page and "(Europe/Paris)" in page


def render_panel(ticket, user) -> str:
    return Template("{% load sla %}{% sla_panel ticket %}").render(Context({"ticket": ticket, "user": user}))


def test_the_panel_reads_a_fixed_number_of_queries(agent, requester, team, django_assert_num_queries):
    policy_with_targets(name="Gold", first_response=60, resolution=240)
    with at(0):
        ticket = services.ticket_create(actor=requester, title="Printer on fire")
    with at(10):
        services.ticket_assign(actor=agent, ticket=ticket, team=team, assignee=agent)
    with at(15), django_assert_num_queries(2):  # the timers (with policy, calendar), their alerts
        assert "SLA timeline (1 segment)" in render_panel(ticket, agent)
    for step in range(10):  # pause and resume ten times: 21 segments
        with at(20 + step * 10):
            ticket.refresh_from_db()
            services.ticket_transition(
                actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="requester"
            )
        with at(25 + step * 10):
            ticket.refresh_from_db()
            services.ticket_reply(actor=requester, ticket=ticket, body=f"Answer {step}")
    with at(500), django_assert_num_queries(2):
        html = render_panel(ticket, agent)
    assert "SLA timeline (21 segments" in html


def test_a_ticket_without_timer_says_no_sla_and_why(client, agent, requester):
    signed_in(client, agent)
    ticket = services.ticket_create(actor=requester, title="Printer on fire")
    page = text(client.get(reverse("tickets:detail", args=[ticket.number])))
    assert "No SLA" in page and "There is no active SLA policy." in page

    policy_with_targets(name="Critical only", priorities=[1])
    other = services.ticket_create(actor=requester, title="Mouse squeaks")
    assert Ticket.objects.get(pk=other.pk).priority != 1
    page = text(client.get(reverse("tickets:detail", args=[other.number])))
    assert "No SLA" in page and "Critical only: the ticket's priority is not covered" in page


def test_the_requester_reads_one_plain_line_from_their_sla_only(client, agent, requester, team):
    policy_with_targets(name="Gold", first_response=0, resolution=240)
    ola = PolicyFactory(name="Desk OLA secret", kind=PolicyKind.OLA, team=team)
    TargetFactory(policy=ola, metric=Metric.RESOLUTION, minutes=30)
    with at(0):
        ticket = services.ticket_create(actor=requester, title="Printer on fire")
    with at(5):
        services.ticket_assign(actor=agent, ticket=ticket, team=team, assignee=agent)
    signed_in(client, requester)
    with at(10):
        response = client.get(reverse("tickets:detail", args=[ticket.number]))
    page = text(response)
    assert "We aim to resolve this by Monday 02 March, 13:00" in page
    assert "Desk OLA secret" not in page and "OLA" not in page and "SLA timeline" not in page


# --- the queues' "Due" column -------------------------------------------------------------------
def test_the_due_cell_says_the_state_in_words_and_colours(db):
    now = T0
    cases = [
        (TicketSlaState.ON_TRACK, now + timedelta(hours=2, minutes=10), "2h 10m left", "sla-on-track"),
        (TicketSlaState.WARNING, now + timedelta(minutes=20), "20m left", "sla-warning"),
        (TicketSlaState.BREACHED, now - timedelta(minutes=35), "overdue 35m", "sla-breached"),
        (TicketSlaState.PAUSED, None, "paused", "sla-paused"),
        (TicketSlaState.NONE, None, "—", "sla-none"),
    ]
    with time_machine.travel(now, tick=False):
        for state, due, expected, css in cases:
            cell = sla_due(Ticket(sla_state=state, sla_due_at=due))
            assert (cell["text"], cell["css"]) == (expected, css)
    assert duration_text(3 * 86400 + 3600) == "3d 1h" and duration_text(30) == "<1m"


def test_the_queue_shows_the_due_column(client, agent, requester, team, django_assert_max_num_queries):
    policy_with_targets(name="Gold", first_response=0, resolution=240, priorities=[])
    with at(0):
        on_time = services.ticket_create(actor=requester, title="On time")
        late = services.ticket_create(actor=requester, title="Late one")
        services.ticket_create(actor=requester, title="Waiting")
    Ticket.objects.filter(pk=late.pk).update(
        sla_state=TicketSlaState.BREACHED, sla_due_at=T0 - timedelta(minutes=35)
    )
    with at(0):
        waiting = Ticket.objects.get(title="Waiting")
        services.ticket_assign(actor=agent, ticket=waiting, team=team, assignee=agent)
        waiting.refresh_from_db()
        services.ticket_transition(actor=agent, ticket=waiting, to=Status.PENDING, pending_reason="requester")
    signed_in(client, agent)
    with at(110), django_assert_max_num_queries(30):
        response = client.get(reverse("tickets:queue", args=["all"]))
    html = response.content.decode()
    assert "sort=due" in html  # a column like the others: sortable by due time
    headers = re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
    plain = [re.sub(r"<[^>]+>|\s+", "", header) for header in headers]
    assert plain.index("Due") == plain.index("Priority") + 1  # next to the priority, always in view
    assert re.search(r'sla-due sla-on-track"[^>]*>.*?2h 10m left', html, re.S)
    assert re.search(r'sla-due sla-breached"[^>]*>.*?overdue 2h 25m', html, re.S)
    assert re.search(r'sla-due sla-paused"[^>]*>.*?paused', html, re.S)
    assert "SLA on track: " in html and "SLA breached: " in html  # said in words, not by colour alone
    assert on_time.number in html


def test_a_ticket_created_before_any_policy_is_timed_after_a_recompute(agent, requester):
    ticket = services.ticket_create(actor=requester, title="Printer on fire")
    policy_with_targets(name="Gold")
    timers_recompute(ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.sla_state == TicketSlaState.ON_TRACK
