"""The catalogue's API end to end: keeping items with their form, approval steps and task plan
(bad definitions refused by field, nothing half-written), ordering with JSON or multipart
attachments, approving and rejecting, working the tasks to a fulfilled request, concurrency
(409 on a stale version) and bounded query counts on every list."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApprovalState, ApproverKind, RequestState, TaskState
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalStep,
    CatalogItem,
    CatalogRequest,
    RequestTask,
    TaskTemplate,
)
from opsdesk.catalog.services.ordering import request_order
from opsdesk.tickets.choices import ResolutionCode, Status, TicketType
from opsdesk.tickets.models import Attachment, Survey
from tests.accounts.factories import UserFactory
from tests.api.problems import assert_problem
from tests.api.test_schema_fuzz import BODY_CHECKS, CHECKS, _connection_kept_across_requests  # noqa: F401
from tests.api.test_schema_fuzz import OPERATIONS as FUZZ_OPERATIONS
from tests.api.test_schema_fuzz import SETTINGS as FUZZ_SETTINGS
from tests.catalog.api_factories import LAPTOP_FORM, catalog_world
from tests.catalog.factories import ApprovalGroupFactory, CatalogItemFactory

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/catalog/items/"
# A list page: the session's user, the rows and their prefetched relations.
MAX_LIST_QUERIES = 10


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return catalog_world()


def _new_item(world, **extra) -> dict:
    return {
        "name": "Docking station",
        "category": world.hardware.pk,
        "offering": world.offering.pk,
        "price": 180.5,
        "delivery_days": 3,
        "form": [
            {"key": "desk", "label": "Desk number", "type": "text", "required": True},
            {"key": "monitors", "label": "Monitors", "type": "number", "min": 0, "max": 3},
        ],
        "approval_steps": [{"kind": "group", "group": world.approvers.pk, "required": 2, "name": "Finance"}],
        "task_plan": [
            {"stage": 1, "name": "Order it", "team": world.desk.pk, "target_minutes": 60},
            {"stage": 2, "name": "Install it", "team": world.network.pk},
        ],
        **extra,
    }


# --- keeping the catalogue ------------------------------------------------------------------
def test_a_manager_creates_an_item_with_its_form_approvals_and_plan_in_one_call(world, api_as):
    response = api_as(world.people.manager).post(ITEMS, _new_item(world), format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert response["ETag"] == f'"{body["version"]}"'
    assert body["slug"] == "docking-station" and body["price"] == 180.5
    assert [field["key"] for field in body["form"]] == ["desk", "monitors"]
    assert body["approval_steps"] == [
        {
            "position": 1,
            "name": "Finance",
            "kind": "group",
            "group": world.approvers.pk,
            "person": None,
            "required": 2,
            "remind_after_hours": 24,
            "escalate_after_hours": 72,
        }
    ]
    assert [(task["stage"], task["name"]) for task in body["task_plan"]] == [
        (1, "Order it"),
        (2, "Install it"),
    ]
    item = CatalogItem.objects.get(pk=body["id"])
    assert item.approval_steps.get().group == world.approvers
    assert item.task_templates.count() == 2


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (
            {
                "form": [
                    {"key": "a", "label": "A", "type": "text"},
                    {"key": "a", "label": "B", "type": "text"},
                ]
            },
            "form",
            "already used",
        ),
        (
            {
                "form": [
                    {"key": "why", "label": "Why", "type": "text", "show_if": {"field": "nope", "in": ["x"]}}
                ]
            },
            "form",
            "not an earlier field",
        ),
        ({"approval_steps": [{"kind": "group", "group": None}]}, "approval_steps", "needs an approval group"),
        ({"approval_steps": [{"kind": "manager", "required": 2}]}, "approval_steps", "only 1 approval"),
        ({"task_plan": [{"stage": 2, "name": "Later", "team": 1}]}, "task_plan", "without gaps"),
        ({"form": "not a list"}, "form", "list"),
        ({"roles": ["wizard"]}, "roles", "requester"),
        ({"approval_steps": [{"kind": "group", "group": 1, "colour": "red"}]}, "approval_steps", "Unknown"),
    ],
)
def test_a_bad_definition_is_refused_by_field_and_nothing_is_written(world, api_as, change, field, says):
    items, steps, tasks = (
        CatalogItem.objects.count(),
        ApprovalStep.objects.count(),
        TaskTemplate.objects.count(),
    )
    if field == "task_plan":
        change = {"task_plan": [{**change["task_plan"][0], "team": world.desk.pk}]}
    response = api_as(world.people.manager).post(ITEMS, _new_item(world, **change), format="json")
    body = assert_problem(response, 400, field=field)
    assert says in json.dumps(body["errors"][field]), body
    assert (CatalogItem.objects.count(), ApprovalStep.objects.count(), TaskTemplate.objects.count()) == (
        items,
        steps,
        tasks,
    )


def test_a_step_needing_more_approvals_than_the_group_has_members_is_refused(world, api_as):
    manager = api_as(world.people.manager)
    steps = [{"kind": "group", "group": world.approvers.pk, "required": 3}]  # the group has 2
    before = world.laptop.version
    response = manager.patch(
        f"{ITEMS}{world.laptop.pk}/",
        {"summary": "Half-written?", "approval_steps": steps},
        format="json",
        HTTP_IF_MATCH=f'"{before}"',
    )
    body = assert_problem(response, 400, field="approval_steps")
    assert "could never complete" in body["errors"]["approval_steps"][0]
    world.laptop.refresh_from_db()
    assert world.laptop.summary != "Half-written?" and world.laptop.version == before
    assert list(world.laptop.approval_steps.values_list("kind", flat=True)) == [ApproverKind.MANAGER]


def test_sent_steps_and_plan_replace_the_old_ones_and_a_stale_version_is_a_409(world, api_as):
    manager = api_as(world.people.manager)
    url = f"{ITEMS}{world.laptop.pk}/"
    version = manager.get(url).json()["version"]
    steps = [
        {"kind": "manager", "name": "Line manager"},
        {"kind": "group", "group": world.approvers.pk, "required": 2, "name": "Finance"},
    ]
    response = manager.patch(url, {"approval_steps": steps, "version": version}, format="json")
    assert response.status_code == 200, response.content[:500]
    assert [step["name"] for step in response.json()["approval_steps"]] == ["Line manager", "Finance"]
    assert response.json()["version"] > version
    stale = manager.patch(url, {"summary": "Too late", "version": version}, format="json")
    assert_problem(stale, 409)
    assert_problem(manager.patch(url, {"summary": "No version"}, format="json"), 428)
    world.laptop.refresh_from_db()
    assert world.laptop.summary != "Too late"


def test_an_item_with_orders_cannot_be_deleted_and_an_empty_category_can(world, api_as):
    manager = api_as(world.people.manager)
    response = manager.delete(f"{ITEMS}{world.laptop.pk}/", HTTP_IF_MATCH=f'"{world.laptop.version}"')
    assert assert_problem(response, 400)["code"] == "in_use"
    assert CatalogItem.objects.filter(pk=world.laptop.pk).exists()
    created = manager.post("/api/v1/catalog/categories/", {"name": "Phones"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "phones"
    taken = manager.post("/api/v1/catalog/categories/", {"name": "phones"}, format="json")
    assert_problem(taken, 400, field="slug")
    gone = manager.delete(f"/api/v1/catalog/categories/{created.json()['id']}/")
    assert gone.status_code == 204


def test_requesters_browse_by_category_and_search(world, api_as):
    requester = api_as(world.people.requester)
    names = lambda query: [row["name"] for row in requester.get(f"{ITEMS}{query}").json()["results"]]  # noqa: E731
    assert names("?category=access") == ["VPN token"]
    assert names("?search=laptop") == ["New laptop"]
    assert names("?category=hardware&search=token") == []
    assert names("?category=no-such-shelf") == []
    # The cost and the expected date of one item; lists do not work out dates.
    detail = requester.get(f"{ITEMS}{world.laptop.pk}/").json()
    assert detail["price"] == 1200.0 and detail["currency"] == "EUR"
    expected = datetime.datetime.fromisoformat(detail["expected_at"])
    assert datetime.timedelta(days=4) < expected - timezone.now() <= datetime.timedelta(days=5, minutes=1)
    assert {row["expected_at"] for row in requester.get(ITEMS).json()["results"]} == {None}


# --- ordering -------------------------------------------------------------------------------
def test_ordering_with_a_conditional_field_makes_a_request_ticket(world, api_as):
    requester = api_as(world.people.requester)
    url = f"{ITEMS}{world.laptop.pk}/order/"
    missing = requester.post(url, {"answers": {"model": "Performance 16-inch", "quantity": 1}}, format="json")
    assert_problem(missing, 400, field="reason")
    count = CatalogRequest.objects.count()
    response = requester.post(
        url,
        {"answers": {"model": "Performance 16-inch", "reason": "Video editing", "quantity": 2}},
        format="json",
    )
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert CatalogRequest.objects.count() == count + 1
    assert body["state"] == RequestState.AWAITING_APPROVAL and body["price"] == 1200.0
    assert body["answers"] == {"model": "Performance 16-inch", "reason": "Video editing", "quantity": 2}
    assert body["ticket"].startswith("REQ") and body["expected_at"]
    request = CatalogRequest.objects.get(pk=body["id"])
    assert request.ticket.type == TicketType.REQUEST and request.ticket.requester == world.people.requester
    # The answer to a hidden field is dropped, not stored.
    hidden = requester.post(url, {"answers": {"model": "Standard 14-inch", "reason": "x"}}, format="json")
    assert hidden.status_code == 201 and "reason" not in hidden.json()["answers"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"model": "Gaming rig"}}, "model"),
        ({"answers": {"model": "Standard 14-inch", "quantity": 11}}, "quantity"),
        ({"answers": {"model": "Standard 14-inch", "colour": "red"}}, "colour"),
        ({"answers": "model=Standard"}, "answers"),
        ({"answers": {}, "extra": 1}, "extra"),
        ({"answers": {"model": "Standard 14-inch"}, "requested_for": "me"}, "requested_for"),
    ],
)
def test_answers_that_fail_validation_are_refused_by_field_and_nothing_is_written(world, api_as, body, field):
    before = (CatalogRequest.objects.count(), Approval.objects.count())
    response = api_as(world.people.requester).post(f"{ITEMS}{world.laptop.pk}/order/", body, format="json")
    assert_problem(response, 400, field=field)
    assert (CatalogRequest.objects.count(), Approval.objects.count()) == before


def test_ordering_with_an_attachment_as_multipart(world, api_as):
    requester = api_as(world.people.requester)
    url = f"{ITEMS}{world.laptop.pk}/order/"
    response = requester.post(
        url,
        {
            "answers": json.dumps({"model": "Standard 14-inch"}),
            "answers.photo": SimpleUploadedFile("old-laptop.txt", b"Cracked screen, left hinge broken."),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content[:500]
    photo = response.json()["answers"]["photo"]
    attachment = Attachment.objects.get(pk=photo["attachment"])
    assert photo["name"] == "old-laptop.txt" == attachment.original_name
    assert attachment.ticket.number == response.json()["ticket"]
    bad = requester.post(
        url, {"answers": "{not json", "answers.photo": SimpleUploadedFile("a.txt", b"x")}, format="multipart"
    )
    assert_problem(bad, 400, field="answers")
    stray = requester.post(
        url, {"answers": "{}", "photo": SimpleUploadedFile("a.txt", b"x")}, format="multipart"
    )
    assert_problem(stray, 400, field="photo")
    assert Attachment.objects.filter(original_name="a.txt").count() == 0


def test_ordering_on_behalf_of_a_colleague_but_not_of_a_stranger(world, api_as):
    requester = api_as(world.people.requester)
    url = f"{ITEMS}{world.vpn.pk}/order/"
    response = requester.post(url, {"answers": {}, "requested_for": world.people.colleague.pk}, format="json")
    assert response.status_code == 201, response.content[:500]
    assert response.json()["requested_for"] == world.people.colleague.pk
    assert response.json()["ordered_by"] == world.people.requester.pk
    stranger = requester.post(url, {"answers": {}, "requested_for": world.people.outsider.pk}, format="json")
    assert_problem(stranger, 400, field="requested_for")


# --- approvals, fulfilment, progress ------------------------------------------------------------
def test_approve_then_two_teams_fulfil_in_parallel_and_the_request_resolves(world, api_as):
    approval = Approval.objects.get(request=world.laptop_request)
    boss = api_as(world.people.boss)
    decided = boss.post(
        f"/api/v1/approvals/{approval.pk}/decide/",
        {"decision": "approve", "comment": "Fine", "version": approval.version},
        format="json",
    )
    assert decided.status_code == 200, decided.content[:500]
    assert decided.json()["state"] == ApprovalState.APPROVED and decided.json()["comment"] == "Fine"
    again = boss.post(f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "reject"}, format="json")
    assert assert_problem(again, 400)["code"] == "already_decided"

    progress = api_as(world.people.requester).get(
        f"/api/v1/catalog/requests/{world.laptop_request.pk}/progress/"
    )
    assert progress.status_code == 200
    shown = progress.json()
    assert (
        shown["state"] == RequestState.IN_FULFILMENT and shown["steps"][0]["state"] == ApprovalState.APPROVED
    )
    assert {task["team"] for task in shown["stages"][0]["tasks"]} == {"Service desk", "Network"}

    queue = api_as(world.people.networker).get(f"/api/v1/request-tasks/?team={world.network.pk}&state=open")
    (network_task,) = [
        row for row in queue.json()["results"] if row["ticket"] == world.laptop_request.ticket.number
    ]
    desk_task = RequestTask.objects.get(request=world.laptop_request, team=world.desk)
    for who, task_id, version in (
        (world.people.networker, network_task["id"], network_task["version"]),
        (world.people.agent, desk_task.pk, desk_task.version),
    ):
        done = api_as(who).post(
            f"/api/v1/request-tasks/{task_id}/complete/", {"note": "Done", "version": version}, format="json"
        )
        assert done.status_code == 200, done.content[:500]
        assert done.json()["state"] == TaskState.DONE
    world.laptop_request.refresh_from_db()
    ticket = world.laptop_request.ticket
    ticket.refresh_from_db()
    assert world.laptop_request.state == RequestState.FULFILLED
    assert ticket.status == Status.RESOLVED and ticket.resolution_code == ResolutionCode.FULFILLED
    assert Survey.objects.filter(ticket=ticket).exists()  # the requester is asked to rate it


def test_a_rejection_closes_the_request_with_the_reason(world, api_as):
    approval = Approval.objects.get(request=world.laptop_request)
    response = api_as(world.people.boss).post(
        f"/api/v1/approvals/{approval.pk}/decide/",
        {"decision": "reject", "comment": "Your laptop is one year old."},
        format="json",
    )
    assert response.status_code == 200, response.content[:500]
    request = (
        api_as(world.people.requester).get(f"/api/v1/catalog/requests/{world.laptop_request.pk}/").json()
    )
    assert request["state"] == RequestState.REJECTED
    assert "one year old" in request["closed_reason"]
    assert not RequestTask.objects.filter(request=world.laptop_request).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "maybe"}, "decision"),
        ({}, "decision"),
        ({"decision": "approve", "version": "3"}, "version"),
    ],
)
def test_a_bad_decision_is_refused_by_field(world, api_as, body, field):
    approval = Approval.objects.get(request=world.laptop_request)
    response = api_as(world.people.boss).post(f"/api/v1/approvals/{approval.pk}/decide/", body, format="json")
    assert_problem(response, 400, field=field)
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING


def test_stale_versions_are_409_on_decisions_tasks_and_cancelling(world, api_as):
    approval = Approval.objects.get(request=world.laptop_request)
    stale = api_as(world.people.boss).post(
        f"/api/v1/approvals/{approval.pk}/decide/",
        {"decision": "approve", "version": approval.version + 1},
        format="json",
    )
    assert_problem(stale, 409)
    task = RequestTask.objects.get(request=world.vpn_request)
    networker = api_as(world.people.networker)
    started = networker.post(
        f"/api/v1/request-tasks/{task.pk}/start/", {"version": task.version}, format="json"
    )
    assert started.status_code == 200 and started.json()["assignee"] == world.people.networker.pk
    again = networker.post(
        f"/api/v1/request-tasks/{task.pk}/complete/", {"version": task.version}, format="json"
    )  # the version read before starting
    assert_problem(again, 409)
    request = world.vpn_request
    cancel = api_as(world.people.requester).post(
        f"/api/v1/catalog/requests/{request.pk}/cancel/", {"version": request.version + 5}, format="json"
    )
    assert_problem(cancel, 409)
    approval.refresh_from_db()
    task.refresh_from_db()
    request.refresh_from_db()
    assert approval.state == ApprovalState.PENDING and task.state == TaskState.IN_PROGRESS
    assert request.state == RequestState.IN_FULFILMENT


def test_a_task_goes_only_to_a_member_of_its_team(world, api_as):
    task = RequestTask.objects.get(request=world.vpn_request)  # Network's
    networker = api_as(world.people.networker)
    refused = networker.post(
        f"/api/v1/request-tasks/{task.pk}/assign/", {"assignee": world.people.agent.pk}, format="json"
    )
    assert_problem(refused, 400, field="assignee")
    nobody = networker.post(
        f"/api/v1/request-tasks/{task.pk}/assign/", {"assignee": 2**31 - 1}, format="json"
    )
    assert_problem(nobody, 400, field="assignee")
    given = networker.post(
        f"/api/v1/request-tasks/{task.pk}/assign/", {"assignee": world.people.networker.pk}, format="json"
    )
    assert given.status_code == 200 and given.json()["assignee"] == world.people.networker.pk
    cancelled = networker.post(f"/api/v1/request-tasks/{task.pk}/cancel/", {"reason": ""}, format="json")
    assert_problem(cancelled, 400, field="reason")


# --- query counts ---------------------------------------------------------------------------
def _more_rows(world, n: int) -> None:
    """``n`` more of everything the lists show: items, orders with approvals and tasks."""
    for index in range(n):
        item = CatalogItemFactory(category=world.hardware, offering=world.offering, form=LAPTOP_FORM)
        item.organizations.set([world.acme])
        ApprovalStep.objects.create(item=item, position=1, kind=ApproverKind.MANAGER)
        TaskTemplate.objects.create(item=item, stage=1, name="Do it", team=world.desk)
        TaskTemplate.objects.create(item=item, stage=1, name="And this", team=world.network)
        request = request_order(actor=world.people.requester, item=world.vpn, answers={})
        assert request.tasks.exists()
        request_order(actor=world.people.requester, item=item, answers={"model": "Standard 14-inch"})
        away = UserFactory(role=Role.AGENT)
        ApprovalGroupFactory(members=[away, world.people.agent])
        today = timezone.localdate() + datetime.timedelta(days=index)
        ApprovalDelegation.objects.create(
            approver=away, delegate=world.people.agent, starts_on=today, ends_on=today
        )


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("requester", ITEMS),
        ("manager", ITEMS),
        ("requester", "/api/v1/catalog/categories/"),
        ("requester", "/api/v1/catalog/requests/"),
        ("agent", "/api/v1/catalog/requests/"),
        ("boss", "/api/v1/approvals/"),
        ("requester", "/api/v1/approvals/?scope=all"),
        ("agent", "/api/v1/request-tasks/"),
        ("requester", "/api/v1/request-tasks/"),
        ("manager", "/api/v1/approval-groups/"),
        ("manager", "/api/v1/approval-delegations/"),
    ],
)
def test_lists_cost_the_same_queries_however_many_rows(
    world, api_as, django_assert_max_num_queries, who, url
):
    client = api_as(getattr(world.people, who))
    with CaptureQueriesContext(connection) as captured:
        few_rows = len(client.get(url).json()["results"])
    _more_rows(world, 4)
    with django_assert_max_num_queries(min(len(captured), MAX_LIST_QUERIES)):
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    if "categories" not in url:
        assert len(response.json()["results"]) > few_rows


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 3), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_manager_sets_and_removes_an_items_picture(world, api_as):
    url = f"{ITEMS}{world.laptop.pk}/picture/"
    refused = api_as(world.people.agent).post(
        url, {"picture": SimpleUploadedFile("laptop.png", _png())}, format="multipart"
    )
    assert_problem(refused, 403)
    manager = api_as(world.people.manager)
    svg = manager.post(
        url, {"picture": SimpleUploadedFile("x.svg", b"<svg onload='alert(1)'/>")}, format="multipart"
    )
    assert_problem(svg, 400)
    response = manager.post(
        url,
        {"picture": SimpleUploadedFile("laptop.png", _png()), "version": str(world.laptop.version)},
        format="multipart",
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["picture"].endswith(".png")
    stale = manager.delete(url, HTTP_IF_MATCH=f'"{world.laptop.version}"')
    assert_problem(stale, 409)
    removed = manager.delete(url, HTTP_IF_MATCH=f'"{response.json()["version"]}"')
    assert removed.status_code == 200 and removed.json()["picture"] is None


# --- whatever is sent, never a 5xx ------------------------------------------------------------
FUZZED_PREFIXES = {
    "/api/v1/catalog/categories/": "categories",
    "/api/v1/catalog/items/": "items",
    "/api/v1/catalog/requests/": "requests",
    "/api/v1/approvals/": "approvals",
    "/api/v1/approval-groups/": "groups",
    "/api/v1/approval-delegations/": "delegations",
    "/api/v1/request-tasks/": "tasks",
}
CATALOG_OPERATIONS = [
    operation
    for operation in FUZZ_OPERATIONS
    if any(operation.path.startswith(prefix) for prefix in FUZZED_PREFIXES)
]


@pytest.fixture
def fuzz_catalog(world, request):
    from opsdesk.accounts.services import token_create

    request.getfixturevalue("_connection_kept_across_requests")

    _, raw = token_create(actor=world.people.admin, user=world.people.admin)
    today = timezone.localdate()
    delegation = ApprovalDelegation.objects.create(
        approver=world.people.boss, delegate=world.people.colleague, starts_on=today, ends_on=today
    )
    requests = [world.laptop_request, world.vpn_request, world.outsider_request]
    return {
        "token": raw,
        "existing": {
            "categories": [world.hardware.pk, world.access.pk],
            "items": [world.laptop.pk, world.vpn.pk, world.finance.pk],
            "requests": [request.pk for request in requests],
            "approvals": list(Approval.objects.values_list("pk", flat=True)),
            "groups": [world.approvers.pk],
            "delegations": [delegation.pk],
            "tasks": list(RequestTask.objects.values_list("pk", flat=True)),
        },
    }


@pytest.mark.xdist_group("fuzz")
@pytest.mark.parametrize("operation", CATALOG_OPERATIONS, ids=lambda operation: operation.label)
def test_catalogue_endpoints_answer_generated_requests_on_real_records_as_documented(operation, fuzz_catalog):
    """Schemathesis as in tests/api, but with path ids pointing at catalogue records, so that
    orders, decisions and task moves run their real code paths."""
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    pool = next(
        fuzz_catalog["existing"][name]
        for prefix, name in FUZZED_PREFIXES.items()
        if operation.path.startswith(prefix)
    )

    @FUZZ_SETTINGS
    @given(case=cases)
    def answers_as_documented(case):
        for name, value in list((case.path_parameters or {}).items()):
            if pool and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                case.path_parameters[name] = pool[value % len(pool)]
        headers = {"Authorization": f"Bearer {fuzz_catalog['token']}"}
        if case.method.upper() in ("PUT", "PATCH") and not (case.headers or {}).get("If-Match"):
            headers["If-Match"] = "*"
        checks = BODY_CHECKS if case.method.upper() in ("POST", "PUT", "PATCH") else CHECKS
        case.call_and_validate(headers=headers, checks=checks)

    answers_as_documented()
