"""The staff's catalogue screens: who may open them, the item editor (form builder JSON, approval
steps and task plan) refusing bad input by field or row with nothing written, categories and
approval groups, and the fulfilment task queue and task page with their version-checked actions."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApproverKind, RequestState, TaskState
from opsdesk.catalog.models import (
    ApprovalGroup,
    ApprovalStep,
    CatalogCategory,
    CatalogItem,
    RequestTask,
    TaskTemplate,
)
from opsdesk.catalog.services.ordering import request_order
from opsdesk.tickets.choices import ResolutionCode, Status
from tests.accounts.factories import OrganizationFactory
from tests.catalog.factories import (
    LAPTOP_FORM,
    ApprovalGroupFactory,
    CatalogCategoryFactory,
    CatalogItemFactory,
    TaskTemplateFactory,
    team_with,
)
from tests.portfolio.factories import OfferingFactory

pytestmark = pytest.mark.django_db

# Queries the task queue and the item list may make whatever their length (session, user, the
# filter choices, the page and its count).
MAX_QUEUE_QUERIES = 12
MAX_LIST_QUERIES = 12


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mia", last_name="Manager")


@pytest.fixture
def agent(make_user):
    return make_user(Role.AGENT, first_name="Ari", last_name="Agent")


@pytest.fixture
def requester(make_user):
    return make_user(first_name="Ana", last_name="Lopez")


def as_user(client, user):
    client.force_login(user)
    return client


def item_post(item: CatalogItem | None = None, **changes) -> dict:
    """What the item editor posts: the item's current values with ``changes``."""
    offering = item.offering if item else OfferingFactory()
    category = item.category if item else CatalogCategoryFactory()
    data = {
        "name": item.name if item else "New laptop",
        "slug": item.slug if item else "",
        "offering": offering.pk,
        "category": category.pk,
        "summary": "A laptop for work",
        "description": "",
        "price": "1200.00",
        "currency": "EUR",
        "delivery_days": "5",
        "allow_on_behalf": "on",
        "is_active": "on",
        "position": "0",
        "form": json.dumps(LAPTOP_FORM),
    }
    if item is not None:
        data["version"] = str(item.version)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- who may open what -----------------------------------------------------------------------
MANAGEMENT_PAGES = ("items_manage", "item_add", "categories", "groups", "group_add")


@pytest.mark.parametrize("name", MANAGEMENT_PAGES)
def test_managers_maintain_the_catalogue_and_nobody_else(client, manager, agent, requester, name):
    CatalogItemFactory(name="VPN token")
    url = reverse(f"catalog:{name}")
    assert as_user(client, manager).get(url).status_code == 200
    for other in (agent, requester):
        client.force_login(other)
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "x"}).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page


def test_an_item_group_and_task_page_refuse_people_who_may_not(client, manager, agent, requester):
    item = CatalogItemFactory()
    group = ApprovalGroupFactory()
    for url in (
        reverse("catalog:item_edit", args=[item.pk]),
        reverse("catalog:item_delete", args=[item.pk]),
        reverse("catalog:group_edit", args=[group.pk]),
    ):
        assert as_user(client, manager).get(url).status_code == 200
        assert as_user(client, agent).get(url).status_code in (403, 404)
        assert as_user(client, requester).get(url).status_code in (403, 404)
    for url in (reverse("catalog:tasks"), reverse("catalog:task", args=["TASK-1"])):
        assert as_user(client, requester).get(url).status_code == 403


def test_the_catalogue_list_shows_items_with_their_figures_and_filters(client, manager):
    hardware = CatalogCategoryFactory(name="Hardware")
    access = CatalogCategoryFactory(name="Access")
    CatalogItemFactory(name="New laptop", category=hardware, price=Decimal("1200"))
    CatalogItemFactory(name="Finance share", category=access, is_active=False)
    page = as_user(client, manager).get(reverse("catalog:items_manage")).content.decode()
    assert "New laptop" in page and "Finance share" in page and "1200.00 EUR" in page
    only_active = client.get(reverse("catalog:items_manage"), {"active": "yes"}).content.decode()
    assert "New laptop" in only_active and "Finance share" not in only_active
    by_category = client.get(reverse("catalog:items_manage"), {"category": access.pk}).content.decode()
    assert "Finance share" in by_category and "New laptop" not in by_category
    nothing = client.get(reverse("catalog:items_manage"), {"q": "zzz"}).content.decode()
    assert "No item matches" in nothing


def test_an_empty_catalogue_says_where_to_start(client, manager):
    page = as_user(client, manager).get(reverse("catalog:items_manage")).content.decode()
    assert "The catalogue is empty" in page


# --- the item editor ---------------------------------------------------------------------------
def test_a_manager_creates_an_item_with_its_form(client, manager):
    response = as_user(client, manager).post(reverse("catalog:item_add"), item_post())
    item = CatalogItem.objects.get(name="New laptop")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:item_edit", args=[item.pk])
    assert item.slug == "new-laptop"  # made from the name
    assert [field["key"] for field in item.form] == ["model", "reason"]
    assert item.form[1]["show_if"] == {"field": "model", "in": ["Performance 16-inch"]}
    page = client.get(response["Location"]).content.decode()
    # The builder's JSON, the steps editor and the plan editor are on the page.
    assert "Performance 16-inch" in page and 'id="approvals"' in page and 'id="plan"' in page


@pytest.mark.parametrize(
    ("form", "named"),
    [
        (
            [{"key": "model", "label": "A", "type": "text"}, {"key": "model", "label": "B", "type": "text"}],
            "model",
        ),
        (
            [
                {
                    "key": "reason",
                    "label": "Why",
                    "type": "text",
                    "show_if": {"field": "colour", "in": ["red"]},
                }
            ],
            "colour",
        ),
        ([{"key": "size", "label": "Size", "type": "choice", "choices": []}], "choices"),
    ],
)
def test_a_bad_form_is_refused_by_field_and_nothing_is_written(client, manager, form, named):
    item = CatalogItemFactory(name="VPN token", form=[])
    before = (item.version, item.form, item.name)
    response = as_user(client, manager).post(
        reverse("catalog:item_edit", args=[item.pk]), item_post(item, name="Renamed", form=json.dumps(form))
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "data-form-error" in page and named in page
    item.refresh_from_db()
    assert (item.version, item.form, item.name) == before


def test_a_form_that_is_not_json_is_refused_without_writing(client, manager):
    count = CatalogItem.objects.count()
    response = as_user(client, manager).post(reverse("catalog:item_add"), item_post(form='[{"key": "x",'))
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()
    assert CatalogItem.objects.count() == count


def test_a_stale_item_edit_is_refused_not_merged(client, manager):
    item = CatalogItemFactory(name="VPN token")
    stale = item_post(item, name="Mine")
    CatalogItem.objects.filter(pk=item.pk).update(version=item.version + 1, name="Theirs")
    response = as_user(client, manager).post(reverse("catalog:item_edit", args=[item.pk]), stale)
    assert response.status_code == 409
    assert "Save my version" in response.content.decode()
    item.refresh_from_db()
    assert item.name == "Theirs"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def test_who_may_order_and_the_picture_are_saved(client, manager, media):
    finance = OrganizationFactory(name="Finance")
    picture = SimpleUploadedFile("laptop.png", png_bytes(), content_type="image/png")
    data = item_post(organizations=[finance.pk], roles=[Role.REQUESTER, Role.AGENT], picture=picture)
    response = as_user(client, manager).post(reverse("catalog:item_add"), data)
    assert response.status_code == 302
    item = CatalogItem.objects.get(name="New laptop")
    assert list(item.organizations.all()) == [finance]
    assert sorted(item.roles) == sorted([Role.REQUESTER, Role.AGENT])
    assert item.picture.name.endswith(".png") and (media / item.picture.name).exists()
    page = client.get(reverse("catalog:item_edit", args=[item.pk])).content.decode()
    assert item.picture.url in page


def test_a_picture_that_is_not_an_image_is_refused_on_its_field(client, manager, media):
    item = CatalogItemFactory(name="VPN token")
    svg = SimpleUploadedFile("token.png", b"<svg onload='alert(1)'></svg>", content_type="image/png")
    response = as_user(client, manager).post(
        reverse("catalog:item_edit", args=[item.pk]), item_post(item, name="Changed", picture=svg)
    )
    assert response.status_code == 400
    page = response.content.decode()
    field = page[page.index('name="picture"') :]
    assert "valid image" in field[: field.index("</div>", field.index("invalid-feedback"))]
    item.refresh_from_db()
    assert (item.name, item.picture.name) == ("VPN token", "")


def test_the_catalogue_list_query_count_does_not_grow_with_items(
    client, manager, django_assert_max_num_queries
):
    CatalogItemFactory()
    as_user(client, manager)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        client.get(reverse("catalog:items_manage"))
    for _ in range(20):
        CatalogItemFactory()
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        page = client.get(reverse("catalog:items_manage")).content.decode()
    assert page.count('href="/catalog/manage/items/') >= 21


def test_an_edit_without_a_version_is_refused(client, manager):
    item = CatalogItemFactory(name="VPN token")
    response = as_user(client, manager).post(
        reverse("catalog:item_edit", args=[item.pk]), item_post(item, version=None, name="Changed")
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.name == "VPN token"


def steps_post(item: CatalogItem, rows: list[dict], *, initial: int = 0) -> dict:
    data = {
        "version": str(item.version),
        "steps-TOTAL_FORMS": str(len(rows)),
        "steps-INITIAL_FORMS": str(initial),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        defaults = {"name": "", "required": "1", "remind_after_hours": "24", "escalate_after_hours": "72"}
        for key, value in {**defaults, **row}.items():
            data[f"steps-{index}-{key}"] = value
    return data


def test_approval_steps_are_saved_in_order_with_a_parallel_n_of_m_step(client, manager, make_user):
    group = ApprovalGroupFactory(name="Finance", members=[make_user(), make_user(), make_user()])
    item = CatalogItemFactory()
    rows = [
        {"kind": ApproverKind.MANAGER, "name": "Manager"},
        {"kind": ApproverKind.GROUP, "group": str(group.pk), "required": "2", "name": "Finance"},
        {"kind": ""},  # the empty row left for a new step
    ]
    response = as_user(client, manager).post(
        reverse("catalog:item_steps", args=[item.pk]), steps_post(item, rows)
    )
    assert response.status_code == 302
    steps = list(item.approval_steps.order_by("position"))
    assert [(s.position, s.kind, s.group_id, s.required) for s in steps] == [
        (1, ApproverKind.MANAGER, None, 1),
        (2, ApproverKind.GROUP, group.pk, 2),
    ]
    # Removing the first step renumbers the rest.
    item.refresh_from_db()
    rows = [{**rows[0], "DELETE": "on"}, rows[1]]
    response = client.post(reverse("catalog:item_steps", args=[item.pk]), steps_post(item, rows, initial=2))
    assert response.status_code == 302
    assert [(s.position, s.kind) for s in item.approval_steps.all()] == [(1, ApproverKind.GROUP)]


def test_a_step_that_can_never_complete_is_refused_on_its_row(client, manager, make_user):
    group = ApprovalGroupFactory(name="Finance", members=[make_user(), make_user()])
    item = CatalogItemFactory()
    rows = [
        {"kind": ApproverKind.MANAGER},
        {"kind": ApproverKind.GROUP, "group": str(group.pk), "required": "3"},
    ]
    response = as_user(client, manager).post(
        reverse("catalog:item_steps", args=[item.pk]), steps_post(item, rows)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "could never complete" in page
    # The message sits on the second row (the row after it in the table), not above the table.
    second_row = page.index('name="steps-1-kind"')
    assert page.index("could never complete") > second_row
    assert not ApprovalStep.objects.filter(item=item).exists()


def test_a_stale_steps_edit_is_refused(client, manager):
    item = CatalogItemFactory()
    data = steps_post(item, [{"kind": ApproverKind.MANAGER}])
    CatalogItem.objects.filter(pk=item.pk).update(version=item.version + 1)
    response = as_user(client, manager).post(reverse("catalog:item_steps", args=[item.pk]), data)
    assert response.status_code == 409
    assert not ApprovalStep.objects.filter(item=item).exists()


def plan_post(item: CatalogItem, rows: list[dict]) -> dict:
    data = {
        "version": str(item.version),
        "tasks-TOTAL_FORMS": str(len(rows)),
        "tasks-INITIAL_FORMS": "0",
        "tasks-MIN_NUM_FORMS": "0",
        "tasks-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in {"stage": "1", "target_minutes": "480", "instructions": "", **row}.items():
            data[f"tasks-{index}-{key}"] = value
    return data


def test_a_task_plan_with_two_parallel_tasks_in_two_teams(client, manager, agent, make_user):
    desk, network = team_with(agent), team_with(make_user(Role.AGENT))
    item = CatalogItemFactory()
    rows = [
        {"name": "Prepare the laptop", "team": str(desk.pk)},
        {"name": "Create the VPN account", "team": str(network.pk), "target_minutes": "240"},
    ]
    response = as_user(client, manager).post(
        reverse("catalog:item_tasks", args=[item.pk]), plan_post(item, rows)
    )
    assert response.status_code == 302
    plan = {(t.stage, t.name, t.team_id, t.target_minutes) for t in item.task_templates.all()}
    assert plan == {(1, "Prepare the laptop", desk.pk, 480), (1, "Create the VPN account", network.pk, 240)}


def test_a_plan_with_a_row_missing_its_team_or_a_stage_gap_is_refused(client, manager, agent):
    desk = team_with(agent)
    item = CatalogItemFactory()
    TaskTemplateFactory(item=item, name="Existing", team=desk)
    item.refresh_from_db()
    no_team = [{"name": "Prepare", "team": str(desk.pk)}, {"name": "Ship it", "team": ""}]
    response = as_user(client, manager).post(
        reverse("catalog:item_tasks", args=[item.pk]), plan_post(item, no_team)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose the team that does this task." in page
    assert page.index("Choose the team") > page.index('name="tasks-1-name"')
    gap = [{"name": "Prepare", "team": str(desk.pk)}, {"name": "Ship it", "team": str(desk.pk), "stage": "3"}]
    response = client.post(reverse("catalog:item_tasks", args=[item.pk]), plan_post(item, gap))
    assert response.status_code == 400
    assert "no task is in stage 2" in response.content.decode()
    assert list(TaskTemplate.objects.filter(item=item).values_list("name", flat=True)) == ["Existing"]


def test_an_item_nobody_ordered_is_deleted_one_with_orders_is_kept(client, manager, requester):
    unused = CatalogItemFactory(name="Unused")
    response = as_user(client, manager).post(
        reverse("catalog:item_delete", args=[unused.pk]), {"version": unused.version}
    )
    assert response.status_code == 302
    assert not CatalogItem.objects.filter(pk=unused.pk).exists()
    ordered = CatalogItemFactory(name="Popular")
    request_order(actor=requester, item=ordered, answers={})
    response = client.post(reverse("catalog:item_delete", args=[ordered.pk]), {"version": ordered.version})
    assert response.status_code == 400
    assert "deactivate it instead" in response.content.decode()
    assert CatalogItem.objects.filter(pk=ordered.pk).exists()


# --- categories and approval groups ------------------------------------------------------------
def test_categories_are_added_edited_and_deleted_in_place(client, manager):
    as_user(client, manager)
    url = reverse("catalog:categories")
    response = client.post(url, {"action": "save", "cnew-name": "Hardware", "cnew-position": "1"})
    assert response.status_code == 302
    hardware = CatalogCategory.objects.get(name="Hardware")
    assert hardware.slug == "hardware"
    response = client.post(
        url,
        {
            "action": "save",
            "pk": hardware.pk,
            "version": hardware.version,
            f"c{hardware.pk}-name": "Devices",
            f"c{hardware.pk}-slug": "devices",
            f"c{hardware.pk}-position": "2",
        },
    )
    assert response.status_code == 302
    hardware.refresh_from_db()
    assert (hardware.name, hardware.slug) == ("Devices", "devices")
    # A name (and so the address made from it) taken twice is refused on the new row.
    response = client.post(url, {"action": "save", "cnew-name": "devices", "cnew-position": "0"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "already uses the address" in page
    assert page.index("already uses the address") > page.index('id="category-new"')
    assert CatalogCategory.objects.count() == 1
    CatalogItemFactory(category=hardware)
    response = client.post(url, {"action": "delete", "pk": hardware.pk, "version": hardware.version})
    assert response.status_code == 400
    assert "move them to another category first" in response.content.decode()
    assert CatalogCategory.objects.filter(pk=hardware.pk).exists()


def test_a_group_keeps_enough_members_for_the_steps_that_use_it(client, manager, make_user):
    ann, bob, cy = make_user(), make_user(), make_user()
    as_user(client, manager)
    response = client.post(
        reverse("catalog:group_add"), {"name": "Finance", "members": [ann.pk, bob.pk, cy.pk]}
    )
    assert response.status_code == 302
    group = ApprovalGroup.objects.get(name="Finance")
    assert set(group.members.all()) == {ann, bob, cy}
    ApprovalStep.objects.create(
        item=CatalogItemFactory(name="Laptop"), kind=ApproverKind.GROUP, group=group, required=3
    )
    response = client.post(
        reverse("catalog:group_edit", args=[group.pk]),
        {"name": "Finance", "members": [ann.pk], "version": group.version},
    )
    assert response.status_code == 400
    assert "Laptop (step 1 needs 3)" in response.content.decode()
    assert group.members.count() == 3
    groups_page = client.get(reverse("catalog:groups")).content.decode()
    assert "Finance" in groups_page


# --- the fulfilment queue and the task page ----------------------------------------------------
@pytest.fixture
def fulfilment(make_user, agent, requester):
    """A laptop with two parallel tasks in two teams, ordered by Ana: both tasks are open."""
    network_agent = make_user(Role.AGENT, first_name="Nia", last_name="Network")
    desk, network = team_with(agent), team_with(network_agent)
    item = CatalogItemFactory(name="New laptop", form=LAPTOP_FORM)
    TaskTemplateFactory(item=item, name="Prepare the laptop", team=desk, target_minutes=480)
    TaskTemplateFactory(item=item, name="Create the VPN account", team=network, target_minutes=240)
    catalog_request = request_order(actor=requester, item=item, answers={"model": "Standard 14-inch"})
    tasks = {task.team_id: task for task in catalog_request.tasks.all()}
    return {
        "request": catalog_request,
        "desk_task": tasks[desk.pk],
        "network_task": tasks[network.pk],
        "network_agent": network_agent,
    }


def test_the_queue_shows_my_teams_open_tasks_with_the_request(client, agent, fulfilment):
    page = as_user(client, agent).get(reverse("catalog:tasks")).content.decode()
    desk_task, network_task = fulfilment["desk_task"], fulfilment["network_task"]
    assert desk_task.number in page and "Prepare the laptop" in page
    assert fulfilment["request"].ticket.number in page and "New laptop" in page and "Ana Lopez" in page
    assert "left" in page and "sla-on-track" in page  # due-in words and colour
    assert network_task.number not in page  # another team's


def test_the_queue_says_all_clear_or_no_team(client, agent, make_user):
    team_with(agent)
    page = as_user(client, agent).get(reverse("catalog:tasks")).content.decode()
    assert "All clear" in page
    loner = make_user(Role.AGENT)
    page = as_user(client, loner).get(reverse("catalog:tasks")).content.decode()
    assert "You are in no team yet" in page


def test_the_queue_query_count_does_not_grow_with_tasks(
    client, agent, requester, django_assert_max_num_queries
):
    desk = team_with(agent)
    item = CatalogItemFactory(name="Mouse")
    TaskTemplateFactory(item=item, name="Hand it over", team=desk)
    request_order(actor=requester, item=item, answers={})
    as_user(client, agent)
    with django_assert_max_num_queries(MAX_QUEUE_QUERIES):
        assert client.get(reverse("catalog:tasks")).status_code == 200
    for _ in range(15):
        request_order(actor=requester, item=item, answers={})
    with django_assert_max_num_queries(MAX_QUEUE_QUERIES):
        page = client.get(reverse("catalog:tasks")).content.decode()
    assert page.count("data-queue-row") == 16


def test_an_agent_starts_and_completes_tasks_and_the_last_resolves_the_request(client, agent, fulfilment):
    desk_task, network_task = fulfilment["desk_task"], fulfilment["network_task"]
    url = reverse("catalog:task", args=[desk_task.number])
    page = as_user(client, agent).get(url).content.decode()
    assert "Standard 14-inch" in page  # the request's answers
    response = client.post(url, {"action": "start", "version": desk_task.version})
    assert response.status_code == 302
    desk_task.refresh_from_db()
    assert (desk_task.state, desk_task.assignee) == (TaskState.IN_PROGRESS, agent)
    response = client.post(
        url, {"action": "complete", "note": "Imaged and labelled", "version": desk_task.version}
    )
    assert response.status_code == 302
    desk_task.refresh_from_db()
    assert (desk_task.state, desk_task.note) == (TaskState.DONE, "Imaged and labelled")
    ticket = fulfilment["request"].ticket
    ticket.refresh_from_db()
    assert ticket.status != Status.RESOLVED  # the other team's task is still open
    # The network agent completes straight from the queue (the "c" key's form).
    as_user(client, fulfilment["network_agent"])
    response = client.post(
        reverse("catalog:task", args=[network_task.number]),
        {"action": "complete", "version": network_task.version, "next": reverse("catalog:tasks")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("catalog:tasks")
    ticket.refresh_from_db()
    fulfilment["request"].refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.resolution_code == ResolutionCode.FULFILLED
    assert fulfilment["request"].state == RequestState.FULFILLED


def test_a_stale_task_action_is_refused_and_changes_nothing(client, agent, fulfilment):
    task = fulfilment["desk_task"]
    stale = task.version
    as_user(client, agent).post(
        reverse("catalog:task", args=[task.number]), {"action": "assign_me", "version": stale}
    )
    response = client.post(
        reverse("catalog:task", args=[task.number]), {"action": "complete", "version": stale}
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.OPEN


def test_cancelling_needs_a_reason_and_other_teams_may_not_work_a_task(client, agent, fulfilment):
    task = fulfilment["network_task"]
    url = reverse("catalog:task", args=[task.number])
    as_user(client, fulfilment["network_agent"])
    response = client.post(url, {"action": "cancel", "reason": "", "version": task.version})
    assert response.status_code == 400
    response = client.post(url, {"action": "explode", "version": task.version})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    # The desk agent sees the task but may not work another team's.
    as_user(client, agent)
    page = client.get(url).content.decode()
    assert "Work it" not in page
    assert client.post(url, {"action": "start", "version": task.version}).status_code == 403
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    assert RequestTask.objects.filter(state=TaskState.OPEN).count() == 2
