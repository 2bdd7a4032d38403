"""The service desk screens against every kind of visitor, and their query counts.

Anonymous visitors are sent to sign in; requesters open their own tickets and never anyone
else's (404), never internal notes or private files; agents work everything; auditors read
everything and change nothing (403).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import CannedResponse, SavedView
from opsdesk.tickets.views.portal import portal_context
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.portfolio.factories import ServiceFactory

pytestmark = pytest.mark.django_db

ANONYMOUS = None
SECRET_NOTE = "SECRET-NOTE: the requester must never read this"


@pytest.fixture
def desk(db, settings, tmp_path):
    return build_desk(settings, tmp_path)


def build_desk(settings, tmp_path) -> SimpleNamespace:
    """Two requesters of two organisations, a team of two agents, an auditor; a ticket with a
    reply, an internal note, a public and a private file; a known error, a saved view, a canned response."""
    settings.MEDIA_ROOT = str(tmp_path)
    org_a, org_b = OrganizationFactory(name="Acme"), OrganizationFactory(name="Globex")
    it = OrganizationFactory(name="IT")
    people = SimpleNamespace(
        requester=UserFactory(username="rita", role=Role.REQUESTER, organization=org_a),
        other_requester=UserFactory(username="otto", role=Role.REQUESTER, organization=org_b),
        agent=UserFactory(username="anna", role=Role.AGENT, organization=it),
        lead=UserFactory(username="leo", role=Role.TEAM_LEAD, organization=it),
        auditor=UserFactory(username="aldo", role=Role.AUDITOR, organization=it),
    )
    team = TeamFactory(name="Service desk", lead=people.lead)
    TeamMembershipFactory(team=team, user=people.agent)
    TeamMembershipFactory(team=team, user=people.lead)
    service = ServiceFactory(name="Email")
    ticket = services.ticket_create(actor=people.requester, title="Mail is down", service=service)
    services.ticket_reply(actor=people.agent, ticket=ticket, body="We are looking into it.")
    services.ticket_reply(actor=people.agent, ticket=ticket, body=SECRET_NOTE, public=False)
    public_file = services.ticket_attach(
        actor=people.requester, ticket=ticket, upload=SimpleUploadedFile("error.txt", b"Error 42")
    )
    private_file = services.ticket_attach(
        actor=people.agent, ticket=ticket, upload=SimpleUploadedFile("internal.txt", b"admin"), public=False
    )
    other_ticket = services.ticket_create(actor=people.other_requester, title="Printer jam")
    problem = services.problem_create(
        actor=people.agent,
        title="Mail relay drops connections",
        root_cause="An expired certificate",
        workaround="Restart the mail client",
        known_error=True,
    )
    saved = SavedView.objects.create(owner=people.agent, name="Urgent", filters={"priority": ["1"]})
    canned = CannedResponse.objects.create(title="Thanks", body="Thank you for waiting.", owner=people.agent)
    return SimpleNamespace(
        **vars(people),
        team=team,
        service=service,
        ticket=ticket,
        other_ticket=other_ticket,
        public_file=public_file,
        private_file=private_file,
        problem=problem,
        saved=saved,
        canned=canned,
    )


def _args(desk, key):
    if key is None:
        return []
    if key == "ticket":
        return [desk.ticket.number]
    if key == "other_ticket":
        return [desk.other_ticket.number]
    if key in ("public_file", "private_file", "problem", "saved", "canned"):
        return [getattr(desk, key).pk]
    return [key]


# (url name, arguments, who asks, expected status)
READS = [
    ("tickets:index", None, ANONYMOUS, 302),
    ("tickets:index", None, "requester", 302),
    ("tickets:index", None, "agent", 302),
    *[("tickets:queue", slug, ANONYMOUS, 302) for slug in ("mine", "triage")],
    *[("tickets:queue", slug, "requester", 403) for slug in ("mine", "team", "triage", "escalated", "all")],
    *[("tickets:queue", slug, "agent", 200) for slug in ("mine", "team", "triage", "escalated", "all")],
    *[("tickets:queue", slug, "auditor", 200) for slug in ("mine", "triage", "all")],
    ("tickets:queue", "nonsense", "agent", 404),
    ("tickets:saved_view", "saved", "agent", 200),
    ("tickets:saved_view", "saved", "lead", 404),
    ("tickets:saved_view", "saved", "requester", 403),
    ("tickets:detail", "ticket", ANONYMOUS, 302),
    ("tickets:detail", "ticket", "requester", 200),
    ("tickets:detail", "ticket", "other_requester", 404),
    ("tickets:detail", "other_ticket", "requester", 404),
    ("tickets:detail", "ticket", "agent", 200),
    ("tickets:detail", "ticket", "auditor", 200),
    ("tickets:detail", "INC9999999", "agent", 404),
    ("tickets:version", "ticket", ANONYMOUS, 302),
    ("tickets:version", "ticket", "requester", 200),
    ("tickets:version", "ticket", "other_requester", 404),
    ("tickets:known_errors", "ticket", "agent", 200),
    ("tickets:known_errors", "ticket", "requester", 403),
    ("tickets:requester_list", None, ANONYMOUS, 302),
    ("tickets:requester_list", None, "requester", 200),
    ("tickets:requester_list", None, "agent", 200),
    ("tickets:create", None, ANONYMOUS, 302),
    ("tickets:create", None, "requester", 200),
    ("tickets:create", None, "agent", 200),
    ("tickets:create", None, "auditor", 403),
    ("tickets:download", "public_file", ANONYMOUS, 302),
    ("tickets:download", "public_file", "requester", 200),
    ("tickets:download", "public_file", "other_requester", 404),
    ("tickets:download", "private_file", "requester", 404),
    ("tickets:download", "private_file", "agent", 200),
    ("tickets:download", "private_file", "auditor", 200),
    ("tickets:team_agents", None, "requester", 403),
    ("tickets:team_agents", None, "agent", 200),
    ("tickets:priority_preview", None, "agent", 200),
    ("tickets:problem_list", None, ANONYMOUS, 302),
    ("tickets:problem_list", None, "requester", 403),
    ("tickets:problem_list", None, "agent", 200),
    ("tickets:problem_list", None, "auditor", 200),
    ("tickets:problem_detail", "problem", "requester", 404),
    ("tickets:problem_detail", "problem", "agent", 200),
    ("tickets:problem_detail", "problem", "auditor", 200),
    ("tickets:problem_add", None, "agent", 200),
    ("tickets:problem_add", None, "auditor", 403),
    ("tickets:problem_edit", "problem", "agent", 200),
    ("tickets:problem_edit", "problem", "auditor", 403),
    ("tickets:cannedresponse_list", None, "requester", 403),
    ("tickets:cannedresponse_list", None, "agent", 200),
    ("tickets:cannedresponse_add", None, "agent", 200),
    ("tickets:cannedresponse_add", None, "auditor", 403),
    ("tickets:cannedresponse_edit", "canned", "agent", 200),
    ("tickets:cannedresponse_edit", "canned", "lead", 404),
]


@pytest.mark.parametrize(("name", "key", "who", "expected"), READS)
def test_pages_answer_each_visitor_as_the_rules_say(client, desk, name, key, who, expected):
    if who is not None:
        client.force_login(getattr(desk, who))
    response = client.get(reverse(name, args=_args(desk, key)))
    assert response.status_code == expected
    if who is None and expected == 302:
        assert response["Location"].startswith(reverse("login"))


# Every write an auditor might try: (url name, arguments, form data).
WRITES = [
    ("tickets:reply", "ticket", {"body": "Hello", "public": "on"}),
    ("tickets:transition", "ticket", {"to": "in_progress"}),
    ("tickets:assign", "ticket", {"team": "TEAM"}),
    ("tickets:update", "ticket", {"title": "x", "impact": "1", "urgency": "1", "version": "1"}),
    ("tickets:worklog", "ticket", {"minutes": "10"}),
    ("tickets:attach", "ticket", {}),
    ("tickets:merge", "ticket", {"merge-number": "OTHER"}),
    ("tickets:set_parent", "ticket", {"parent-number": "OTHER"}),
    ("tickets:relate", "ticket", {"relate-number": "OTHER"}),
    ("tickets:link_problem", "ticket", {"problem": "PROBLEM"}),
    ("tickets:rate", "ticket", {"rating": "5"}),
    ("tickets:bulk", None, {"tickets": "TICKET", "action": "status", "status": "in_progress"}),
    ("tickets:saved_view_create", None, {"name": "Mine", "query": ""}),
    ("tickets:saved_view_delete", "saved", {}),
    ("tickets:create", None, {"type": "incident", "title": "x", "impact": "3", "urgency": "3"}),
    ("tickets:problem_add", None, {"title": "x", "status": "new", "priority": "3"}),
    ("tickets:cannedresponse_add", None, {"title": "x", "body": "y"}),
]


def _fill(desk, data):
    replacements = {
        "TEAM": str(desk.team.pk),
        "OTHER": desk.other_ticket.number,
        "PROBLEM": desk.problem.number,
        "TICKET": desk.ticket.number,
    }
    return {key: replacements.get(value, value) for key, value in data.items()}


@pytest.mark.parametrize(("name", "key", "data"), WRITES)
def test_auditors_read_but_every_write_is_refused(client, desk, name, key, data):
    client.force_login(desk.auditor)
    before = desk.ticket.version
    response = client.post(reverse(name, args=_args(desk, key)), _fill(desk, data))
    assert response.status_code == 403
    desk.ticket.refresh_from_db()
    assert desk.ticket.version == before


@pytest.mark.parametrize(("name", "key", "data"), WRITES[:11])
def test_writes_on_someone_elses_ticket_are_not_found(client, desk, name, key, data):
    client.force_login(desk.other_requester)
    response = client.post(reverse(name, args=_args(desk, key)), _fill(desk, data))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("tickets:assign", {"team": "TEAM"}),
        ("tickets:worklog", {"minutes": "10"}),
        ("tickets:relate", {"relate-number": "OTHER"}),
    ],
)
def test_requesters_cannot_work_their_own_ticket_like_an_agent(client, desk, name, data):
    client.force_login(desk.requester)
    response = client.post(reverse(name, args=[desk.ticket.number]), _fill(desk, data))
    assert response.status_code == 403


def test_requesters_never_see_internal_notes_or_private_files(client, desk):
    client.force_login(desk.requester)
    page = client.get(reverse("tickets:detail", args=[desk.ticket.number])).content.decode()
    assert "We are looking into it." in page
    assert "SECRET-NOTE" not in page and "internal.txt" not in page
    assert "error.txt" in page
    client.force_login(desk.agent)
    page = client.get(reverse("tickets:detail", args=[desk.ticket.number])).content.decode()
    assert "SECRET-NOTE" in page and "internal.txt" in page


def test_requesters_read_plain_words_not_itil_terms(client, desk):
    services.ticket_transition(
        actor=desk.agent, ticket=desk.ticket, to=Status.PENDING, pending_reason="requester"
    )
    client.force_login(desk.requester)
    page = client.get(reverse("tickets:detail", args=[desk.ticket.number])).content.decode()
    assert "Waiting for you" in page
    assert "Incident" not in page
    listing = client.get(reverse("tickets:requester_list")).content.decode()
    assert "Waiting for you" in listing and "Printer jam" not in listing


def test_attachments_download_under_their_name_and_are_never_sniffed(client, desk):
    client.force_login(desk.requester)
    response = client.get(reverse("tickets:download", args=[desk.public_file.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="error.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"Error 42"


def test_portal_context_lists_the_requesters_tickets_in_two_queries(desk, django_assert_num_queries):
    with django_assert_num_queries(2):
        context = portal_context(desk.requester)
    assert [ticket.number for ticket in context["ticket_recent"]] == [desk.ticket.number]
    assert context["ticket_open_count"] == 1


# --- query counts -----------------------------------------------------------------------------
QUEUE_QUERIES = 16
TICKET_PAGE_QUERIES = 30


def _fill_queue(desk, count):
    for index in range(count):
        ticket = services.ticket_create(
            actor=desk.requester, title=f"Ticket {index}", service=desk.service, impact=1 + index % 3
        )
        services.ticket_assign(actor=desk.agent, ticket=ticket, team=desk.team, assignee=desk.agent)


@pytest.mark.parametrize("count", [5, 50])
@pytest.mark.parametrize("slug", ["mine", "team", "all"])
def test_queues_cost_the_same_for_5_or_50_tickets(client, desk, django_assert_max_num_queries, count, slug):
    _fill_queue(desk, count)
    client.force_login(desk.agent)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(
            reverse("tickets:queue", args=[slug]),
            {"sort": "-priority", "cols": ["number", "title", "requester", "service", "team", "assignee"]},
        )
    assert response.status_code == 200
    extra = 2 if slug == "all" else 0  # the fixture's own two tickets
    assert len(response.context["tickets"]) == min(count + extra, 25)


def test_saved_view_costs_the_same_as_a_queue(client, desk, django_assert_max_num_queries):
    _fill_queue(desk, 30)
    client.force_login(desk.agent)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        assert client.get(reverse("tickets:saved_view", args=[desk.saved.pk])).status_code == 200


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_the_ticket_page_stays_bounded(client, desk, django_assert_max_num_queries, who):
    for index in range(20):
        services.ticket_reply(actor=desk.agent, ticket=desk.ticket, body=f"Update {index}")
    services.ticket_assign(actor=desk.agent, ticket=desk.ticket, team=desk.team, assignee=desk.agent)
    services.ticket_relate(actor=desk.agent, ticket=desk.ticket, related=desk.other_ticket)
    client.force_login(getattr(desk, who))
    with django_assert_max_num_queries(TICKET_PAGE_QUERIES):
        response = client.get(reverse("tickets:detail", args=[desk.ticket.number]))
    assert response.status_code == 200
