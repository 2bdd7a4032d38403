"""The service desk's REST API: tickets by number and their actions, problems, categories and the
priority matrix. The rules themselves are tested on the services; these test the contract."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.accounts.choices import Role
from opsdesk.tickets import services
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.models import Attachment, Category, PriorityRule, Problem, Ticket, TimelineEvent
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.api.problems import assert_problem

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def desk(db, settings, tmp_path):
    """Two customer organisations, a service desk team with one member, and people in every role."""
    settings.MEDIA_ROOT = str(tmp_path)
    acme, globex = OrganizationFactory(name="Acme"), OrganizationFactory(name="Globex")
    people = SimpleNamespace(
        requester=UserFactory(role=Role.REQUESTER, organization=acme),
        colleague=UserFactory(role=Role.REQUESTER, organization=acme),
        outsider=UserFactory(role=Role.REQUESTER, organization=globex),
        agent=UserFactory(role=Role.AGENT),
        stranger=UserFactory(role=Role.AGENT),
        manager=UserFactory(role=Role.MANAGER),
        auditor=UserFactory(role=Role.AUDITOR),
        admin=UserFactory(role=Role.ADMIN),
    )
    team = TeamFactory(name="Service desk")
    TeamMembershipFactory(team=team, user=people.agent)
    return SimpleNamespace(acme=acme, globex=globex, people=people, team=team)


@pytest.fixture
def ticket(desk):
    return services.ticket_create(
        actor=desk.people.requester, title="VPN drops every hour", impact=2, urgency=2
    )


def url(number: str, action: str | None = None) -> str:
    return f"/api/v1/tickets/{number}/" + (f"{action}/" if action else "")


def snapshot(ticket: Ticket) -> tuple:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.version,
        fresh.status,
        fresh.assigned_team_id,
        fresh.assignee_id,
        fresh.title,
        TimelineEvent.objects.filter(ticket=ticket).count(),
    )


# --- creating and reading -----------------------------------------------------------------------
def test_a_requester_raises_an_incident_and_gets_its_number_priority_and_etag(api_as, desk):
    response = api_as(desk.people.requester).post(
        "/api/v1/tickets/",
        {"title": "Printer jams", "description": "**Floor 2**", "impact": 1, "urgency": 2},
        format="json",
    )
    assert response.status_code == 201, response.json().get("errors")
    body = response.json()
    assert body["number"] == "INC0001001"
    assert (body["priority"], body["status"], body["channel"]) == (2, "new", "api")
    assert body["requester"] == desk.people.requester.pk
    assert body["organization"] == desk.acme.pk
    assert "<strong>Floor 2</strong>" in body["description_html"]
    assert body["created_at"] and body["first_response_at"] is None and body["reopen_count"] == 0
    assert response["ETag"] == '"1"'
    assert "id" not in body


def test_requests_are_numbered_apart_and_looked_up_by_number_only(api_as, desk, ticket):
    client = api_as(desk.people.agent)
    created = client.post(
        "/api/v1/tickets/",
        {"title": "New laptop", "type": "request", "requester": desk.people.colleague.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["number"] == "REQ0001001"
    assert created.json()["requester"] == desk.people.colleague.pk
    found = client.get(url("REQ0001001"))
    assert found.status_code == 200 and found.json()["title"] == "New laptop"
    assert found["ETag"] == '"1"'
    assert_problem(client.get(url(str(ticket.pk))), 404)
    assert_problem(client.get(url("INC9999999")), 404)


def test_a_requester_naming_someone_else_as_requester_is_refused(api_as, desk):
    for someone in (desk.people.colleague.pk, 10**12):
        response = api_as(desk.people.requester).post(
            "/api/v1/tickets/", {"title": "On behalf", "requester": someone}, format="json"
        )
        assert_problem(response, 403, field="requester")
    assert not Ticket.objects.exists()


def test_script_in_text_is_stored_inert(api_as, desk):
    response = api_as(desk.people.requester).post(
        "/api/v1/tickets/",
        {
            "title": "<script>alert(1)</script>Broken",
            "description": 'Hi <img src=x onerror="alert(1)"><script>steal()</script>'
            " [x](javascript:alert(1))",
        },
        format="json",
    )
    assert response.status_code == 201
    html = response.json()["description_html"]
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert response["Content-Type"] == "application/json"  # never rendered as HTML by the API


def test_unknown_fields_wrong_types_and_bad_levels_are_refused_naming_the_field(api_as, desk):
    client = api_as(desk.people.requester)
    assert_problem(
        client.post("/api/v1/tickets/", {"title": "x", "colour": "red"}, format="json"), 400, field="colour"
    )
    assert_problem(
        client.post("/api/v1/tickets/", {"title": "x", "impact": "1"}, format="json"), 400, field="impact"
    )
    assert_problem(
        client.post("/api/v1/tickets/", {"title": "x", "urgency": 7}, format="json"), 400, field="urgency"
    )
    assert_problem(
        client.post("/api/v1/tickets/", {"title": "x", "priority": 1}, format="json"), 400, field="priority"
    )
    assert_problem(
        client.post("/api/v1/tickets/", {"title": "x", "service": 10**6}, format="json"), 400, field="service"
    )
    assert_problem(client.post("/api/v1/tickets/", {"title": "  "}, format="json"), 400, field="title")
    assert not Ticket.objects.exists()


# --- updating: If-Match and read-only fields ------------------------------------------------------
def test_agents_patch_with_if_match_and_priority_follows_the_matrix(api_as, desk, ticket):
    client = api_as(desk.people.agent)
    response = client.patch(
        url(ticket.number), {"impact": 1, "urgency": 1, "tags": ["VPN"]}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["priority"], response.json()["tags"]) == (1, ["vpn"])
    assert response["ETag"] == f'"{response.json()["version"]}"'


def test_a_stale_if_match_is_a_409_and_changes_nothing(api_as, desk, ticket):
    client = api_as(desk.people.agent)
    client.patch(url(ticket.number), {"title": "First edit"}, format="json", HTTP_IF_MATCH='"1"')
    before = snapshot(ticket)
    stale = client.patch(url(ticket.number), {"title": "Second edit"}, format="json", HTTP_IF_MATCH='"1"')
    assert_problem(stale, 409)
    assert snapshot(ticket) == before
    assert_problem(client.patch(url(ticket.number), {"title": "No version"}, format="json"), 428)


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", "resolved"),
        ("assigned_team", 1),
        ("assignee", 1),
        ("priority", 1),
        ("number", "INC1"),
        ("organization", 1),
        ("requester", 1),
        ("description_html", "<b>x</b>"),
        ("resolved_at", None),
    ],
)
def test_status_assignment_and_derived_fields_are_read_only_on_patch(api_as, desk, ticket, field, value):
    response = api_as(desk.people.agent).patch(
        url(ticket.number), {field: value}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(response, 400, field=field)
    assert Ticket.objects.get(pk=ticket.pk).version == 1


def test_tickets_are_never_deleted(api_as, desk, ticket):
    assert_problem(api_as(desk.people.admin).delete(url(ticket.number)), 405)


# --- transitions ----------------------------------------------------------------------------------
def test_an_illegal_transition_names_the_allowed_ones_under_errors_status(api_as, desk, ticket):
    before = snapshot(ticket)
    response = api_as(desk.people.agent).post(
        url(ticket.number, "transition"), {"status": "closed"}, format="json"
    )
    body = assert_problem(response, 400, field="status")
    assert "allowed:" in body["errors"]["status"][0] and "in progress" in body["errors"]["status"][0]
    assert snapshot(ticket) == before


def test_resolving_needs_a_resolution_code_then_sets_the_milestone(api_as, desk, ticket):
    client = api_as(desk.people.agent)
    assert_problem(
        client.post(url(ticket.number, "transition"), {"status": "resolved"}, format="json"),
        400,
        field="resolution_code",
    )
    response = client.post(
        url(ticket.number, "transition"),
        {"status": "resolved", "resolution_code": "solved", "resolution_notes": "Rebooted"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["resolution_code"], body["resolution_notes"]) == (
        "resolved",
        "solved",
        "Rebooted",
    )
    assert body["resolved_at"] and response["ETag"] == f'"{body["version"]}"'


def test_a_transition_with_a_stale_if_match_is_a_409_and_changes_nothing(api_as, desk, ticket):
    before = snapshot(ticket)
    response = api_as(desk.people.agent).post(
        url(ticket.number, "transition"), {"status": "in_progress"}, format="json", HTTP_IF_MATCH='"7"'
    )
    assert_problem(response, 409)
    assert snapshot(ticket) == before
    malformed = api_as(desk.people.agent).post(
        url(ticket.number, "transition"), {"status": "in_progress"}, format="json", HTTP_IF_MATCH="yesterday"
    )
    assert_problem(malformed, 400, field="If-Match")


def test_requesters_cancel_their_own_and_reopen_within_the_period(api_as, desk, ticket):
    client = api_as(desk.people.requester)
    refused = client.post(url(ticket.number, "transition"), {"status": "in_progress"}, format="json")
    assert "cancelled" in assert_problem(refused, 400, field="status")["errors"]["status"][0]
    services.ticket_transition(
        actor=desk.people.agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved"
    )
    reopened = client.post(
        url(ticket.number, "transition"), {"status": "in_progress", "note": "Still broken"}, format="json"
    )
    assert reopened.status_code == 200
    assert reopened.json()["reopen_count"] == 1 and reopened.json()["reopened_at"]
    cancelled = client.post(url(ticket.number, "transition"), {"status": "cancelled"}, format="json")
    assert cancelled.json()["status"] == "cancelled"


# --- assignment -----------------------------------------------------------------------------------
def test_assigning_to_a_team_member(api_as, desk, ticket):
    response = api_as(desk.people.agent).post(
        url(ticket.number, "assign"),
        {"team": desk.team.pk, "assignee": desk.people.agent.pk},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["assigned_team"], body["assignee"], body["status"]) == (
        desk.team.pk,
        desk.people.agent.pk,
        "assigned",
    )
    assert body["assigned_at"]


def test_assigning_outside_the_team_names_the_assignee_and_writes_nothing(api_as, desk, ticket):
    before = snapshot(ticket)
    client = api_as(desk.people.agent)
    outside = client.post(
        url(ticket.number, "assign"),
        {"team": desk.team.pk, "assignee": desk.people.stranger.pk},
        format="json",
    )
    assert "not a member" in assert_problem(outside, 400, field="assignee")["errors"]["assignee"][0]
    assert_problem(
        client.post(url(ticket.number, "assign"), {"team": 10**6}, format="json"), 400, field="team"
    )
    assert_problem(client.post(url(ticket.number, "assign"), {"team": "1"}, format="json"), 400, field="team")
    assert_problem(client.post(url(ticket.number, "assign"), {}, format="json"), 400, field="team")
    stale = client.post(
        url(ticket.number, "assign"), {"team": desk.team.pk}, format="json", HTTP_IF_MATCH='"9"'
    )
    assert_problem(stale, 409)
    assert snapshot(ticket) == before


# --- the conversation -----------------------------------------------------------------------------
def test_replies_and_notes_and_who_sees_them(api_as, desk, ticket):
    agent, requester = api_as(desk.people.agent), api_as(desk.people.requester)
    reply = agent.post(url(ticket.number, "replies"), {"body": "Try **this**"}, format="json")
    assert reply.status_code == 201 and reply.json()["kind"] == "public_reply"
    assert "<strong>this</strong>" in reply.json()["body_html"]
    note = agent.post(
        url(ticket.number, "replies"), {"body": "User is on the old client", "public": False}, format="json"
    )
    assert note.status_code == 201 and note.json()["kind"] == "internal_note"
    assert api_as(desk.people.agent).get(url(ticket.number)).json()["first_response_at"]

    seen = requester.get(url(ticket.number, "replies")).json()["results"]
    kinds = [entry["kind"] for entry in seen]
    assert kinds == ["created", "public_reply"]
    assert all(entry["ticket"] == ticket.number for entry in seen)
    agent_kinds = [entry["kind"] for entry in agent.get(url(ticket.number, "replies")).json()["results"]]
    assert "internal_note" in agent_kinds

    assert requester.post(url(ticket.number, "replies"), {"body": "Thanks"}, format="json").status_code == 201
    assert_problem(
        requester.post(url(ticket.number, "replies"), {"body": "psst", "public": False}, format="json"),
        403,
        field="public",
    )
    assert_problem(
        requester.post(url(ticket.number, "replies"), {"body": "  "}, format="json"), 400, field="body"
    )
    assert_problem(
        requester.post(url(ticket.number, "replies"), {"body": "x", "public": "no"}, format="json"),
        400,
        field="public",
    )


def test_worklogs_are_for_the_service_desk(api_as, desk, ticket):
    logged = api_as(desk.people.agent).post(
        url(ticket.number, "worklogs"), {"minutes": 30, "note": "Remote session"}, format="json"
    )
    assert logged.status_code == 201 and logged.json()["minutes"] == 30
    assert_problem(
        api_as(desk.people.agent).post(url(ticket.number, "worklogs"), {"minutes": 0}, format="json"),
        400,
        field="minutes",
    )
    assert_problem(
        api_as(desk.people.requester).post(url(ticket.number, "worklogs"), {"minutes": 5}, format="json"), 403
    )
    assert TimelineEvent.objects.filter(ticket=ticket, kind=EventKind.WORKLOG).count() == 1


# --- attachments ----------------------------------------------------------------------------------
def upload(client, number, name, content, **fields):
    return client.post(
        url(number, "attachments"), {"file": SimpleUploadedFile(name, content), **fields}, format="multipart"
    )


def test_attachments_upload_list_and_download_with_safe_headers(api_as, desk, ticket):
    agent, requester = api_as(desk.people.agent), api_as(desk.people.requester)
    public = upload(requester, ticket.number, "screen shot.png", PNG)
    assert public.status_code == 201, public.json()
    assert (public.json()["original_name"], public.json()["content_type"], public.json()["public"]) == (
        "screen shot.png",
        "image/png",
        True,
    )
    private = upload(agent, ticket.number, "notes.txt", b"internal", public="false")
    assert private.status_code == 201 and private.json()["public"] is False

    download = requester.get(f"/api/v1/ticket-attachments/{public.json()['id']}/download/")
    assert download.status_code == 200
    assert (
        download["Content-Disposition"].startswith("attachment")
        and "screen shot.png" in download["Content-Disposition"]
    )
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PNG

    assert [
        row["original_name"] for row in requester.get(url(ticket.number, "attachments")).json()["results"]
    ] == ["screen shot.png"]
    assert len(agent.get(url(ticket.number, "attachments")).json()["results"]) == 2
    assert_problem(requester.get(f"/api/v1/ticket-attachments/{private.json()['id']}/download/"), 404)
    assert_problem(requester.get(f"/api/v1/ticket-attachments/{private.json()['id']}/"), 404)
    assert agent.get(f"/api/v1/ticket-attachments/{private.json()['id']}/download/").status_code == 200
    assert_problem(
        api_as(desk.people.outsider).get(f"/api/v1/ticket-attachments/{public.json()['id']}/download/"), 404
    )


@pytest.mark.parametrize(
    "name, content",
    [
        ("invoice.png", b"MZ\x90\x00\x03" + b"\x00" * 60),  # an executable named .png
        ("setup.exe", b"MZ\x90\x00"),
        ("report.pdf", b"not a pdf"),
        ("empty.txt", b""),
    ],
)
def test_dangerous_attachments_are_refused_naming_the_file(api_as, desk, ticket, name, content):
    assert_problem(upload(api_as(desk.people.requester), ticket.number, name, content), 400, field="file")
    assert not Attachment.objects.exists()


def test_path_tricks_and_control_characters_never_reach_the_stored_name(api_as, desk, ticket):
    response = upload(api_as(desk.people.agent), ticket.number, "../../etc/pass\u202ewd\x07.txt", b"hello")
    assert response.status_code == 201, response.json().get("errors")
    assert response.json()["original_name"] == "passwd.txt"
    stored = Attachment.objects.get().file.name
    assert ".." not in stored and "passwd" not in stored


def test_oversized_attachments_and_private_files_from_requesters_are_refused(api_as, desk, ticket, settings):
    settings.MAX_UPLOAD_BYTES = 100
    assert_problem(upload(api_as(desk.people.agent), ticket.number, "big.txt", b"x" * 101), 400, field="file")
    settings.MAX_UPLOAD_BYTES = 10_000
    refused = upload(api_as(desk.people.requester), ticket.number, "a.txt", b"hello", public="false")
    assert_problem(refused, 403, field="public")
    assert not Attachment.objects.exists()


# --- links: merge, parent, relate ------------------------------------------------------------------
def test_merging_a_duplicate_into_another_ticket(api_as, desk, ticket):
    duplicate = services.ticket_create(actor=desk.people.colleague, title="VPN broken")
    client = api_as(desk.people.agent)
    response = client.post(url(duplicate.number, "merge"), {"into": ticket.number}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["duplicate_of"]) == ("resolved", ticket.number)
    assert desk.people.colleague.pk in client.get(url(ticket.number)).json()["watchers"]


def test_unknown_numbers_in_actions_name_their_field_and_change_nothing(api_as, desk, ticket):
    client = api_as(desk.people.agent)
    before = snapshot(ticket)
    assert_problem(
        client.post(url(ticket.number, "merge"), {"into": "INC0999999"}, format="json"), 400, field="into"
    )
    assert_problem(
        client.post(url(ticket.number, "merge"), {"into": ticket.number}, format="json"), 400, field="into"
    )
    assert_problem(
        client.post(url(ticket.number, "parent"), {"parent": "nope"}, format="json"), 400, field="parent"
    )
    assert_problem(
        client.post(url(ticket.number, "relate"), {"related": "REQ0000001"}, format="json"),
        400,
        field="related",
    )
    assert_problem(
        client.post(url(ticket.number, "relate"), {"related": 5}, format="json"), 400, field="related"
    )
    assert_problem(client.post(url("INC0999999", "merge"), {"into": ticket.number}, format="json"), 404)
    assert snapshot(ticket) == before


def test_parent_and_related_tickets_show_on_both_sides(api_as, desk, ticket):
    child = services.ticket_create(actor=desk.people.colleague, title="No VPN either")
    other = services.ticket_create(actor=desk.people.colleague, title="Slow Wi-Fi")
    client = api_as(desk.people.agent)
    linked = client.post(url(child.number, "parent"), {"parent": ticket.number}, format="json")
    assert linked.status_code == 200 and linked.json()["parent"] == ticket.number
    parent = client.get(url(ticket.number)).json()
    assert parent["children"] == [child.number] and parent["is_major"] is True
    related = client.post(url(ticket.number, "relate"), {"related": other.number}, format="json")
    assert related.json()["related"] == [other.number]
    assert client.get(url(other.number)).json()["related"] == [ticket.number]
    detached = client.post(url(child.number, "parent"), {"parent": None}, format="json")
    assert detached.json()["parent"] is None
    mine = services.ticket_create(actor=desk.people.requester, title="Also mine")
    requester = api_as(desk.people.requester)
    assert_problem(requester.post(url(ticket.number, "relate"), {"related": mine.number}, format="json"), 403)
    hidden = requester.post(url(ticket.number, "relate"), {"related": other.number}, format="json")
    assert_problem(hidden, 400, field="related")


# --- satisfaction ---------------------------------------------------------------------------------
def test_the_requester_rates_a_resolved_ticket_once(api_as, desk, ticket):
    client = api_as(desk.people.requester)
    assert_problem(
        client.post(url(ticket.number, "survey"), {"rating": 5}, format="json"), 400, field="rating"
    )
    services.ticket_transition(
        actor=desk.people.agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved"
    )
    assert_problem(
        api_as(desk.people.agent).post(url(ticket.number, "survey"), {"rating": 5}, format="json"), 403
    )
    assert_problem(
        client.post(url(ticket.number, "survey"), {"rating": 6}, format="json"), 400, field="rating"
    )
    rated = client.post(
        url(ticket.number, "survey"), {"rating": 1, "comment": "Still broken", "reopen": True}, format="json"
    )
    assert rated.status_code == 200, rated.json()
    assert (rated.json()["rating"], rated.json()["needs_review"]) == (1, True)
    assert client.get(url(ticket.number)).json()["status"] == "in_progress"
    assert_problem(
        client.post(url(ticket.number, "survey"), {"rating": 3}, format="json"), 400, field="rating"
    )


# --- problems -------------------------------------------------------------------------------------
def test_problems_have_numbers_link_incidents_and_known_errors_are_searchable(api_as, desk, ticket):
    client = api_as(desk.people.agent)
    created = client.post("/api/v1/problems/", {"title": "VPN concentrator overloads"}, format="json")
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert number == "PRB0001001" and created["ETag"] == '"1"'
    linked = client.post(f"/api/v1/problems/{number}/incidents/", {"incident": ticket.number}, format="json")
    assert linked.status_code == 200 and linked.json()["incidents"] == [ticket.number]
    assert client.get(url(ticket.number)).json()["problem"] == number
    refused = client.patch(
        f"/api/v1/problems/{number}/", {"known_error": True}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(refused, 400, field="known_error")
    known = client.patch(
        f"/api/v1/problems/{number}/",
        {
            "known_error": True,
            "root_cause": "Licence limit of 250 sessions",
            "workaround": "Reconnect to vpn2",
        },
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert known.status_code == 200 and known.json()["status"] == "known_error"
    services.problem_create(actor=desk.people.agent, title="VPN client crashes")
    found = client.get("/api/v1/problems/", {"known_error": "true", "search": "vpn2 sessions"}).json()[
        "results"
    ]
    assert [row["number"] for row in found] == [number]
    assert_problem(
        client.post(f"/api/v1/problems/{number}/incidents/", {"incident": "INC0000000"}, format="json"),
        400,
        field="incident",
    )
    request = services.ticket_create(actor=desk.people.requester, title="Laptop", type="request")
    assert_problem(
        client.post(f"/api/v1/problems/{number}/incidents/", {"incident": request.number}, format="json"),
        400,
        field="incident",
    )
    assert_problem(client.get(f"/api/v1/problems/{Problem.objects.get(number=number).pk}/"), 404)


# --- categories and the priority matrix -----------------------------------------------------------
def test_managers_keep_a_two_level_category_tree_everyone_reads(api_as, desk):
    manager = api_as(desk.people.manager)
    top = manager.post("/api/v1/categories/", {"name": "Network"}, format="json")
    assert top.status_code == 201
    sub = manager.post("/api/v1/categories/", {"name": "VPN", "parent": top.json()["id"]}, format="json")
    assert sub.status_code == 201
    deeper = manager.post(
        "/api/v1/categories/", {"name": "Client", "parent": sub.json()["id"]}, format="json"
    )
    assert_problem(deeper, 400, field="parent")
    assert_problem(
        api_as(desk.people.agent).post("/api/v1/categories/", {"name": "Mine"}, format="json"), 403
    )
    rows = api_as(desk.people.requester).get("/api/v1/categories/", {"top_level": "true"}).json()["results"]
    assert [(row["name"], row["children"]) for row in rows] == [("Network", [sub.json()["id"]])]
    assert_problem(manager.delete(f"/api/v1/categories/{top.json()['id']}/"), 409)
    assert Category.objects.count() == 2


def test_the_priority_matrix_has_nine_cells_managers_change(api_as, desk):
    cells = api_as(desk.people.agent).get("/api/v1/priority-matrix/").json()
    assert len(cells) == 9 and {"impact": 1, "urgency": 1, "priority": 1} in cells
    assert {"impact": 3, "urgency": 3, "priority": 5} in cells
    changed = api_as(desk.people.manager).put("/api/v1/priority-matrix/3/3/", {"priority": 4}, format="json")
    assert changed.status_code == 200 and changed.json() == {"impact": 3, "urgency": 3, "priority": 4}
    assert (
        api_as(desk.people.manager)
        .put("/api/v1/priority-matrix/3/3/", {"priority": 3}, format="json")
        .status_code
        == 200
    )
    assert PriorityRule.objects.get(impact=3, urgency=3).priority == 3
    assert {"impact": 3, "urgency": 3, "priority": 3} in api_as(desk.people.agent).get(
        "/api/v1/priority-matrix/"
    ).json()
    created = api_as(desk.people.requester).post("/api/v1/tickets/", {"title": "x"}, format="json")
    assert created.json()["priority"] == 3
    assert_problem(
        api_as(desk.people.agent).put("/api/v1/priority-matrix/3/3/", {"priority": 1}, format="json"), 403
    )
    assert_problem(
        api_as(desk.people.manager).put("/api/v1/priority-matrix/3/3/", {"priority": 9}, format="json"),
        400,
        field="priority",
    )
    assert_problem(
        api_as(desk.people.manager).put("/api/v1/priority-matrix/4/1/", {"priority": 1}, format="json"), 404
    )
    assert_problem(api_as(desk.people.requester).get("/api/v1/priority-matrix/"), 403)


# --- lists: filters, search, ordering, query counts ----------------------------------------------
def test_filters_search_and_ordering(api_as, desk, ticket):
    other = services.ticket_create(
        actor=desk.people.colleague, title="Printer on fire", impact=1, urgency=1, tags=["Hardware"]
    )
    services.ticket_assign(actor=desk.people.agent, ticket=other, team=desk.team, assignee=desk.people.agent)
    client = api_as(desk.people.agent)

    def numbers(**params):
        response = client.get("/api/v1/tickets/", params)
        assert response.status_code == 200, response.json()
        return [row["number"] for row in response.json()["results"]]

    assert numbers(status=["new", "assigned"]) == [other.number, ticket.number]
    assert numbers(status="assigned") == [other.number]
    assert numbers(mine="true") == [other.number]
    assert numbers(unassigned="true") == [ticket.number]
    assert numbers(tag="hardware") == [other.number]
    assert numbers(tag="hard") == []
    assert numbers(priority=1) == [other.number]
    assert numbers(assigned_team=desk.team.pk) == [other.number]
    assert numbers(requester=desk.people.requester.pk) == [ticket.number]
    assert numbers(organization=desk.acme.pk, type="incident") == [other.number, ticket.number]
    assert numbers(search="fire") == [other.number]
    assert numbers(search=ticket.number) == [ticket.number]
    assert numbers(ordering="priority") == [other.number, ticket.number]
    assert numbers(ordering="-priority") == [ticket.number, other.number]
    assert numbers(created_at__gte="2000-01-01T00:00:00Z", created_at__lte="2000-01-02T00:00:00Z") == []
    assert_problem(client.get("/api/v1/tickets/", {"status": "lost"}), 400, field="status")
    assert_problem(client.get("/api/v1/tickets/", {"assigned_team": 10**6}), 400, field="assigned_team")


def _tickets(desk, count: int) -> None:
    service_team = desk.team
    for n in range(count):
        ticket = services.ticket_create(
            actor=desk.people.agent,
            requester=desk.people.requester,
            title=f"T{n}",
            tags=["a"],
            watchers=[desk.people.colleague],
        )
        services.ticket_assign(
            actor=desk.people.agent, ticket=ticket, team=service_team, assignee=desk.people.agent
        )


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_list_and_detail_queries_do_not_grow_with_rows(api_as, desk, role, django_assert_max_num_queries):
    client = api_as(getattr(desk.people, role))
    _tickets(desk, 5)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/tickets/").json()["results"]) == 5
    _tickets(desk, 45)
    with django_assert_max_num_queries(len(few)):
        assert len(client.get("/api/v1/tickets/").json()["results"]) == 50
    number = Ticket.objects.order_by("id").first().number
    with CaptureQueriesContext(connection) as detail:
        client.get(url(number))
    assert len(detail) <= 12
