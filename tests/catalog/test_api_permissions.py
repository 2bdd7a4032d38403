"""Who may do what in the catalogue's API, endpoint by endpoint: anonymous, a requester, a
requester of another organisation, an approver, an agent, a manager (and the read-only auditor),
down to single records: a record one may not see is a 404, one seen but not one's to change a 403."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from opsdesk.catalog.choices import ApprovalState, RequestState, TaskState
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalGroup,
    CatalogCategory,
    CatalogItem,
    CatalogRequest,
    RequestTask,
)
from tests.api.problems import assert_problem
from tests.catalog.api_factories import catalog_world

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/catalog/categories/",
    "/api/v1/catalog/items/",
    "/api/v1/catalog/requests/",
    "/api/v1/approvals/",
    "/api/v1/approval-groups/",
    "/api/v1/approval-delegations/",
    "/api/v1/request-tasks/",
]


@pytest.fixture
def world(db):
    return catalog_world()


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {row["id"] for row in response.json()["results"]}


# --- anonymous ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", LISTS)
def test_anonymous_callers_are_asked_to_authenticate(world, url):
    client = APIClient()
    assert_problem(client.get(url), 401)
    assert_problem(client.post(url, {}, format="json"), 401)


def test_anonymous_callers_cannot_order_decide_or_work_tasks(world):
    client = APIClient()
    approval = Approval.objects.get(request=world.laptop_request)
    task = RequestTask.objects.filter(request=world.vpn_request).first()
    assert_problem(client.post(f"/api/v1/catalog/items/{world.laptop.pk}/order/", {}, format="json"), 401)
    assert_problem(
        client.post(f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "approve"}, format="json"), 401
    )
    assert_problem(client.post(f"/api/v1/request-tasks/{task.pk}/start/", {}, format="json"), 401)
    assert approval.state == ApprovalState.PENDING


# --- categories and items -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("requester", 403),
        ("outsider", 403),
        ("boss", 403),
        ("agent", 403),
        ("auditor", 403),
        ("manager", 201),
    ],
)
def test_only_managers_add_categories(world, api_as, who, status):
    before = CatalogCategory.objects.count()
    response = api_as(getattr(world.people, who)).post(
        "/api/v1/catalog/categories/", {"name": "Software"}, format="json"
    )
    assert response.status_code == status, response.content[:300]
    assert CatalogCategory.objects.count() == before + (status == 201)


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("requester", {"laptop", "vpn"}),
        ("outsider", {"laptop", "finance"}),
        ("boss", {"laptop", "vpn"}),
        ("agent", {"laptop", "vpn", "finance", "retired"}),
        ("manager", {"laptop", "vpn", "finance", "retired"}),
    ],
)
def test_each_person_lists_the_items_offered_to_them(world, api_as, who, visible):
    response = api_as(getattr(world.people, who)).get("/api/v1/catalog/items/")
    assert _ids(response) == {getattr(world, name).pk for name in visible}


def test_requesters_do_not_see_who_may_order_nor_the_plans(world, api_as):
    mine = api_as(world.people.requester).get(f"/api/v1/catalog/items/{world.laptop.pk}/").json()
    assert mine["name"] == "New laptop" and mine["form"][0]["key"] == "model"
    for hidden in ("approval_steps", "task_plan", "organizations", "roles", "fulfilment_team"):
        assert hidden not in mine
    staff = api_as(world.people.agent).get(f"/api/v1/catalog/items/{world.laptop.pk}/").json()
    assert [step["kind"] for step in staff["approval_steps"]] == ["manager"]
    assert {task["team"] for task in staff["task_plan"]} == {world.desk.pk, world.network.pk}


def test_an_item_not_offered_to_you_is_not_found_even_to_order(world, api_as):
    outsider = api_as(world.people.outsider)
    assert_problem(outsider.get(f"/api/v1/catalog/items/{world.vpn.pk}/"), 404)
    assert_problem(outsider.post(f"/api/v1/catalog/items/{world.vpn.pk}/order/", {}, format="json"), 404)
    assert_problem(
        api_as(world.people.requester).post(
            f"/api/v1/catalog/items/{world.retired.pk}/order/", {}, format="json"
        ),
        404,
    )
    assert (
        not CatalogRequest.objects.filter(item__in=[world.vpn, world.retired])
        .exclude(pk=world.vpn_request.pk)
        .exists()
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("requester", 403), ("outsider", 403), ("agent", 403), ("auditor", 403), ("manager", 200)],
)
def test_only_managers_change_items(world, api_as, who, status):
    response = api_as(getattr(world.people, who)).patch(
        f"/api/v1/catalog/items/{world.laptop.pk}/",
        {"summary": "Changed"},
        format="json",
        HTTP_IF_MATCH=f'"{world.laptop.version}"',
    )
    assert response.status_code == status, response.content[:300]
    world.laptop.refresh_from_db()
    assert (world.laptop.summary == "Changed") is (status == 200)


@pytest.mark.parametrize("who", ["requester", "agent", "auditor"])
def test_only_managers_add_items(world, api_as, who):
    response = api_as(getattr(world.people, who)).post(
        "/api/v1/catalog/items/",
        {"name": "Phone", "category": world.hardware.pk, "offering": world.offering.pk},
        format="json",
    )
    assert_problem(response, 403)
    assert not CatalogItem.objects.filter(name="Phone").exists()


@pytest.mark.parametrize("who", ["outsider", "requester", "agent"])
def test_without_the_right_to_delete_items_the_answer_is_403_whichever_item(world, api_as, who):
    # The model-level right is checked first: nobody learns which ids exist from a delete.
    response = api_as(getattr(world.people, who)).delete(f"/api/v1/catalog/items/{world.vpn.pk}/")
    assert_problem(response, 403)
    assert CatalogItem.objects.filter(pk=world.vpn.pk).exists()


# --- requests -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("requester", {"laptop_request", "vpn_request"}),
        ("outsider", {"outsider_request"}),
        ("boss", {"laptop_request"}),  # they approve it; the VPN token needs no approval
        ("colleague", set()),
        ("agent", {"laptop_request", "vpn_request", "outsider_request"}),
        ("auditor", {"laptop_request", "vpn_request", "outsider_request"}),
    ],
)
def test_each_person_sees_only_the_requests_that_concern_them(world, api_as, who, visible):
    response = api_as(getattr(world.people, who)).get("/api/v1/catalog/requests/")
    assert _ids(response) == {getattr(world, name).pk for name in visible}


def test_another_persons_request_and_its_progress_are_not_found(world, api_as):
    outsider = api_as(world.people.outsider)
    pk = world.laptop_request.pk
    assert_problem(outsider.get(f"/api/v1/catalog/requests/{pk}/"), 404)
    assert_problem(outsider.get(f"/api/v1/catalog/requests/{pk}/progress/"), 404)
    assert_problem(outsider.post(f"/api/v1/catalog/requests/{pk}/cancel/", {}, format="json"), 404)
    assert api_as(world.people.requester).get(f"/api/v1/catalog/requests/{pk}/progress/").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("boss", 403), ("auditor", 403), ("requester", 200)])
def test_only_the_requester_or_the_desk_cancels_a_request(world, api_as, who, status):
    response = api_as(getattr(world.people, who)).post(
        f"/api/v1/catalog/requests/{world.laptop_request.pk}/cancel/",
        {"reason": "No longer needed"},
        format="json",
    )
    assert response.status_code == status, response.content[:300]
    world.laptop_request.refresh_from_db()
    expected = RequestState.CANCELLED if status == 200 else RequestState.AWAITING_APPROVAL
    assert world.laptop_request.state == expected


# --- approvals ------------------------------------------------------------------------------
def test_approvals_list_what_is_mine_by_default(world, api_as):
    approval = Approval.objects.get(request=world.laptop_request)
    assert _ids(api_as(world.people.boss).get("/api/v1/approvals/")) == {approval.pk}
    assert _ids(api_as(world.people.boss).get("/api/v1/approvals/?state=approved")) == set()
    requester = api_as(world.people.requester)
    # The requester follows their request's approval; it is not theirs to decide.
    assert _ids(requester.get("/api/v1/approvals/")) == set()
    assert _ids(requester.get("/api/v1/approvals/?scope=all")) == {approval.pk}
    assert requester.get(f"/api/v1/approvals/{approval.pk}/").status_code == 200
    assert _ids(api_as(world.people.outsider).get("/api/v1/approvals/?scope=all")) == set()
    assert _ids(api_as(world.people.agent).get("/api/v1/approvals/?scope=all")) == {approval.pk}


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("colleague", 404), ("requester", 403), ("agent", 403), ("auditor", 403)],
)
def test_nobody_but_the_approver_decides(world, api_as, who, status):
    approval = Approval.objects.get(request=world.laptop_request)
    response = api_as(getattr(world.people, who)).post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert_problem(response, status)
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING and approval.decided_by is None


def test_a_delegate_standing_in_decides_and_sees_it_as_theirs(world, api_as):
    from django.utils import timezone

    boss = api_as(world.people.boss)
    today = timezone.localdate().isoformat()
    response = boss.post(
        "/api/v1/approval-delegations/",
        {"delegate": world.people.colleague.pk, "starts_on": today, "ends_on": today, "reason": "Holiday"},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    approval = Approval.objects.get(request=world.laptop_request, state=ApprovalState.PENDING)
    colleague = api_as(world.people.colleague)
    assert approval.pk in _ids(colleague.get("/api/v1/approvals/"))
    decided = colleague.post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200, decided.content[:300]
    assert decided.json()["decided_by"] == world.people.colleague.pk


# --- approval groups and delegations ----------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "listed", "create"),
    [
        ("requester", False, 403),
        ("boss", False, 403),
        ("agent", True, 403),
        ("auditor", True, 403),
        ("manager", True, 201),
    ],
)
def test_staff_read_approval_groups_and_managers_keep_them(world, api_as, who, listed, create):
    client = api_as(getattr(world.people, who))
    assert (world.approvers.pk in _ids(client.get("/api/v1/approval-groups/"))) is listed
    response = client.post(
        "/api/v1/approval-groups/", {"name": "CAB", "members": [world.people.manager.pk]}, format="json"
    )
    assert response.status_code == create, response.content[:300]
    assert ApprovalGroup.objects.filter(name="CAB").exists() is (create == 201)


def test_people_arrange_their_own_stand_in_and_managers_anyones(world, api_as):
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    body = {"delegate": world.people.colleague.pk, "starts_on": today, "ends_on": today}
    refused = api_as(world.people.requester).post(
        "/api/v1/approval-delegations/", {**body, "approver": world.people.boss.pk}, format="json"
    )
    assert_problem(refused, 403)
    assert not ApprovalDelegation.objects.exists()
    made = api_as(world.people.manager).post(
        "/api/v1/approval-delegations/", {**body, "approver": world.people.boss.pk}, format="json"
    )
    assert made.status_code == 201, made.content[:300]
    pk = made.json()["id"]
    assert_problem(api_as(world.people.outsider).get(f"/api/v1/approval-delegations/{pk}/"), 404)
    assert api_as(world.people.boss).get(f"/api/v1/approval-delegations/{pk}/").status_code == 200
    assert_problem(
        api_as(world.people.colleague).delete(f"/api/v1/approval-delegations/{pk}/"), 403
    )  # the delegate sees it, but it is the approver's to end
    assert ApprovalDelegation.objects.filter(pk=pk).exists()


# --- fulfilment tasks -----------------------------------------------------------------------
def test_requesters_follow_their_tasks_without_the_desks_notes(world, api_as):
    task = RequestTask.objects.get(request=world.vpn_request)
    requester = api_as(world.people.requester)
    assert _ids(requester.get("/api/v1/request-tasks/")) == {task.pk}
    shown = requester.get(f"/api/v1/request-tasks/{task.pk}/").json()
    assert shown["state"] == TaskState.OPEN and "instructions" not in shown and "note" not in shown
    assert_problem(api_as(world.people.outsider).get(f"/api/v1/request-tasks/{task.pk}/"), 404)
    assert _ids(api_as(world.people.outsider).get("/api/v1/request-tasks/")) == set(
        RequestTask.objects.filter(request=world.outsider_request).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("outsider", 404),
        ("requester", 403),
        ("boss", 404),
        ("auditor", 403),
        ("agent", 403),
        ("networker", 200),
    ],
)
def test_only_the_tasks_team_works_it(world, api_as, who, status):
    task = RequestTask.objects.get(request=world.vpn_request)  # a Network task
    client = api_as(getattr(world.people, who))
    response = client.post(
        f"/api/v1/request-tasks/{task.pk}/start/", {"version": task.version}, format="json"
    )
    assert response.status_code == status, response.content[:300]
    task.refresh_from_db()
    assert task.state == (TaskState.IN_PROGRESS if status == 200 else TaskState.OPEN)


@pytest.mark.parametrize("action", ["assign", "complete", "cancel"])
def test_requesters_cannot_act_on_their_own_requests_tasks(world, api_as, action):
    task = RequestTask.objects.get(request=world.vpn_request)
    body = {"assign": {"assignee": world.people.requester.pk}, "complete": {}, "cancel": {"reason": "x"}}[
        action
    ]
    response = api_as(world.people.requester).post(
        f"/api/v1/request-tasks/{task.pk}/{action}/", body, format="json"
    )
    assert_problem(response, 403)
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.assignee is None
