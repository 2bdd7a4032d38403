"""Who may do what with tickets over the API: anonymous, the requester on their own ticket and on
someone else's, their organisation, another organisation, agents, auditors (read-only) and
managers. A ticket the caller may not see answers 404, exactly like a missing one."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from opsdesk.tickets import services
from opsdesk.tickets.models import Attachment, Problem, Ticket, TimelineEvent
from tests.api.problems import assert_problem
from tests.tickets.test_api import desk, snapshot, url  # noqa: F401  (desk is a fixture)

pytestmark = pytest.mark.django_db

# Every write a ticket offers, with a body that would succeed for someone allowed to make it.
WRITES = {
    "patch": ("patch", None, {"title": "Edited"}),
    "transition": ("post", "transition", {"status": "in_progress"}),
    "assign": ("post", "assign", {"team": "TEAM"}),
    "reply": ("post", "replies", {"body": "Hello"}),
    "note": ("post", "replies", {"body": "Internal", "public": False}),
    "worklog": ("post", "worklogs", {"minutes": 5}),
    "relate": ("post", "relate", {"related": "OTHER"}),
    "parent": ("post", "parent", {"parent": "OTHER"}),
    "merge": ("post", "merge", {"into": "OTHER"}),
}


@pytest.fixture
def tickets(desk):  # noqa: F811
    own = services.ticket_create(actor=desk.people.requester, title="Mine")
    colleague = services.ticket_create(actor=desk.people.colleague, title="My colleague's")
    outsider = services.ticket_create(actor=desk.people.outsider, title="Another organisation's")
    return own, colleague, outsider


def write(client, desk, ticket, name, other):  # noqa: F811
    method, action, body = WRITES[name]
    body = {
        key: {"TEAM": desk.team.pk, "OTHER": other.number}.get(value, value) for key, value in body.items()
    }
    headers = {"HTTP_IF_MATCH": "*"} if method == "patch" else {}
    return getattr(client, method)(url(ticket.number, action), body, format="json", **headers)


def test_anonymous_callers_get_401_problem_details_everywhere(tickets):
    own = tickets[0]
    client = APIClient()
    for method, path in [
        ("get", "/api/v1/tickets/"),
        ("post", "/api/v1/tickets/"),
        ("get", url(own.number)),
        ("patch", url(own.number)),
        ("post", url(own.number, "transition")),
        ("get", url(own.number, "replies")),
        ("get", "/api/v1/problems/"),
        ("get", "/api/v1/categories/"),
        ("get", "/api/v1/priority-matrix/"),
        ("get", "/api/v1/ticket-attachments/"),
    ]:
        assert_problem(getattr(client, method)(path, {}, format="json"), 401)


def test_requesters_see_their_own_tickets_only(api_as, desk, tickets):  # noqa: F811
    own, colleague, outsider = tickets
    client = api_as(desk.people.requester)
    assert [row["number"] for row in client.get("/api/v1/tickets/").json()["results"]] == [own.number]
    assert client.get(url(own.number)).status_code == 200
    for hidden in (colleague, outsider):
        assert_problem(client.get(url(hidden.number)), 404)
        assert_problem(client.get(url(hidden.number, "replies")), 404)
        assert_problem(client.post(url(hidden.number, "replies"), {"body": "Hi"}, format="json"), 404)
        assert_problem(
            client.post(url(hidden.number, "transition"), {"status": "cancelled"}, format="json"), 404
        )


def test_watchers_and_organisations_that_share_see_but_do_not_change(api_as, desk, tickets):  # noqa: F811
    own, colleague, outsider = tickets
    client = api_as(desk.people.requester)
    services.ticket_update(actor=desk.people.agent, ticket=colleague, data={"title": "Shared"})
    colleague.watchers.add(desk.people.requester)
    assert client.get(url(colleague.number)).status_code == 200
    desk.acme.requesters_see_organization = True
    desk.acme.save()
    third = services.ticket_create(actor=desk.people.colleague, title="Also Acme")
    numbers = {row["number"] for row in client.get("/api/v1/tickets/").json()["results"]}
    assert numbers == {own.number, colleague.number, third.number}
    before = snapshot(third)
    assert_problem(client.post(url(third.number, "transition"), {"status": "cancelled"}, format="json"), 403)
    assert_problem(client.post(url(third.number, "replies"), {"body": "Me too"}, format="json"), 403)
    assert snapshot(third) == before
    assert_problem(client.get(url(outsider.number)), 404)


@pytest.mark.parametrize("name", ["patch", "assign", "note", "worklog", "relate", "parent", "merge"])
def test_requesters_do_not_make_service_desk_changes_to_their_own_ticket(api_as, desk, tickets, name):  # noqa: F811
    own = tickets[0]
    other = services.ticket_create(actor=desk.people.requester, title="Also mine")
    before = snapshot(own)
    assert_problem(write(api_as(desk.people.requester), desk, own, name, other), 403)
    assert snapshot(own) == before


@pytest.mark.parametrize("name", list(WRITES))
def test_agents_work_every_ticket(api_as, desk, tickets, name):  # noqa: F811
    _, colleague, outsider = tickets
    response = write(api_as(desk.people.agent), desk, outsider, name, colleague)
    assert response.status_code in (200, 201), response.json()


@pytest.mark.parametrize("name", list(WRITES))
def test_auditors_read_everything_and_change_nothing(api_as, desk, tickets, name):  # noqa: F811
    own, colleague, _ = tickets
    client = api_as(desk.people.auditor)
    assert client.get(url(own.number)).status_code == 200
    assert len(client.get("/api/v1/tickets/").json()["results"]) == 3
    before = snapshot(own)
    assert_problem(write(client, desk, own, name, colleague), 403)
    assert snapshot(own) == before


def test_auditors_cannot_create_rate_or_attach(api_as, desk, tickets):  # noqa: F811
    own = tickets[0]
    client = api_as(desk.people.auditor)
    assert_problem(client.post("/api/v1/tickets/", {"title": "x"}, format="json"), 403)
    attach = client.post(
        url(own.number, "attachments"), {"file": SimpleUploadedFile("a.txt", b"hi")}, format="multipart"
    )
    assert_problem(attach, 403)
    assert_problem(client.post(url(own.number, "survey"), {"rating": 5}, format="json"), 403)
    assert_problem(client.post("/api/v1/problems/", {"title": "x"}, format="json"), 403)
    assert_problem(client.post("/api/v1/categories/", {"name": "x"}, format="json"), 403)
    assert_problem(client.put("/api/v1/priority-matrix/1/1/", {"priority": 2}, format="json"), 403)
    assert client.get("/api/v1/priority-matrix/").status_code == 200
    assert client.get(url(own.number, "replies")).status_code == 200
    assert (Ticket.objects.count(), Attachment.objects.count(), Problem.objects.count()) == (3, 0, 0)
    assert not TimelineEvent.objects.filter(author=desk.people.auditor).exists()


def test_problems_are_for_the_service_desk(api_as, desk, tickets):  # noqa: F811
    problem = services.problem_create(actor=desk.people.agent, title="Disk fills up")
    requester = api_as(desk.people.requester)
    assert requester.get("/api/v1/problems/").json()["results"] == []
    assert_problem(requester.get(f"/api/v1/problems/{problem.number}/"), 404)
    assert_problem(requester.post("/api/v1/problems/", {"title": "Mine"}, format="json"), 403)
    assert api_as(desk.people.agent).get(f"/api/v1/problems/{problem.number}/").status_code == 200
    assert_problem(api_as(desk.people.agent).delete(f"/api/v1/problems/{problem.number}/"), 403)
    assert Problem.objects.count() == 1


def test_requesters_fetch_only_public_files_of_tickets_they_see(api_as, desk, tickets):  # noqa: F811
    own, colleague, _ = tickets
    public = services.ticket_attach(
        actor=desk.people.agent, ticket=own, upload=SimpleUploadedFile("a.txt", b"public words")
    )
    private = services.ticket_attach(
        actor=desk.people.agent, ticket=own, upload=SimpleUploadedFile("b.txt", b"secret words"), public=False
    )
    elsewhere = services.ticket_attach(
        actor=desk.people.agent, ticket=colleague, upload=SimpleUploadedFile("c.txt", b"other words")
    )
    client = api_as(desk.people.requester)
    listed = [row["id"] for row in client.get("/api/v1/ticket-attachments/").json()["results"]]
    assert listed == [public.pk]
    assert client.get(f"/api/v1/ticket-attachments/{public.pk}/download/").status_code == 200
    for hidden in (private, elsewhere):
        assert_problem(client.get(f"/api/v1/ticket-attachments/{hidden.pk}/download/"), 404)
    assert_problem(client.delete(f"/api/v1/ticket-attachments/{public.pk}/"), 405)
    auditor = api_as(desk.people.auditor)
    assert auditor.get(f"/api/v1/ticket-attachments/{private.pk}/download/").status_code == 200
