"""Maintaining the catalogue: items, their approval steps and fulfilment plan, approval groups,
categories. What a catalogue manager would check: what is refused (and why, by field, step or
task), that nothing is half-written, who may do it, and that the audit trail records it."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApproverKind, RequestState
from opsdesk.catalog.models import (
    ApprovalGroup,
    ApprovalStep,
    CatalogCategory,
    CatalogItem,
    CatalogRequest,
    TaskTemplate,
)
from opsdesk.catalog.services.definitions import (
    approval_group_delete,
    approval_group_save,
    approval_steps_save,
    task_plan_save,
)
from opsdesk.catalog.services.items import (
    MAX_PICTURE_BYTES,
    category_delete,
    category_save,
    item_delete,
    item_save,
)
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.models import AuditEntry
from opsdesk.tickets.choices import TicketType
from opsdesk.tickets.services import ticket_create
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.catalog.factories import ApprovalGroupFactory, CatalogCategoryFactory, CatalogItemFactory
from tests.portfolio.factories import OfferingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mia", last_name="Manager")


@pytest.fixture
def item(manager):
    return CatalogItemFactory(name="New laptop", slug="new-laptop")


def audit_rows(instance, operation=None):
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_id=str(instance.pk)
    )
    return rows.filter(operation=operation) if operation else rows


def picture(fmt="PNG", name="laptop.png", size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def item_data(**overrides):
    data = {
        "offering": OfferingFactory().pk,
        "category": CatalogCategoryFactory().pk,
        "name": "VPN token",
        "summary": "A hardware token for remote access",
        "price": "25.50",
        "delivery_days": 3,
    }
    return {**data, **overrides}


def error_text(exc_info, field):
    return " ".join(exc_info.value.errors[field])


# --- items --------------------------------------------------------------------------------------
def test_manager_creates_an_item_with_a_derived_slug_organisations_and_roles(manager):
    finance = OrganizationFactory(name="Finance")
    item = item_save(
        actor=manager,
        data=item_data(organizations=[finance.pk], roles=[Role.REQUESTER, Role.AGENT, Role.REQUESTER]),
    )
    item.refresh_from_db()
    assert item.slug == "vpn-token"
    assert item.price == Decimal("25.50")
    assert list(item.organizations.all()) == [finance]
    assert item.roles == [Role.REQUESTER, Role.AGENT]
    created = audit_rows(item, "create").get()
    assert created.actor == manager
    assert created.changes["name"] == [None, "VPN token"]
    assert audit_rows(item).filter(changes__has_key="organizations").exists()


def test_item_update_is_audited_and_bumps_the_version(manager, item):
    before = item.version
    item_save(actor=manager, item=item, data={"price": "999.00"}, expected_version=before)
    item.refresh_from_db()
    assert item.version == before + 1
    assert item.price == Decimal("999.00")
    update = audit_rows(item, "update").get()
    assert update.actor == manager and "price" in update.changes


def test_stale_version_is_a_conflict_and_changes_nothing(manager, item):
    stale = item.version
    item_save(actor=manager, item=item, data={"name": "Laptop"}, expected_version=stale)
    copy = CatalogItem.objects.get(pk=item.pk)
    with pytest.raises(ConcurrencyConflict):
        item_save(actor=manager, item=copy, data={"name": "Old laptop"}, expected_version=stale)
    assert CatalogItem.objects.get(pk=item.pk).name == "Laptop"


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT, Role.TEAM_LEAD])
def test_only_managers_maintain_items(make_user, item, role):
    person = make_user(role)
    with pytest.raises(NotAllowed):
        item_save(actor=person, data=item_data())
    with pytest.raises(NotAllowed):
        item_save(actor=person, item=item, data={"name": "Mine now"})
    with pytest.raises(NotAllowed):
        item_delete(actor=person, item=item)
    with pytest.raises(NotAllowed):
        approval_steps_save(actor=person, item=item, steps=[{"kind": ApproverKind.MANAGER}])
    with pytest.raises(NotAllowed):
        task_plan_save(actor=person, item=item, tasks=[])
    with pytest.raises(NotAllowed):
        approval_group_save(actor=person, data={"name": "Mine"})
    with pytest.raises(NotAllowed):
        category_save(actor=person, data={"name": "Mine"})
    assert CatalogItem.objects.get(pk=item.pk).name == "New laptop"
    assert not ApprovalGroup.objects.exists()


def test_slug_clash_is_a_clear_error(manager, item):
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, data=item_data(name="New laptop"))
    assert refused.value.code == "slug_taken"
    assert refused.value.field == "slug"
    assert "new-laptop" in refused.value.message
    assert CatalogItem.objects.count() == 1


def test_an_item_cannot_take_the_address_of_a_catalogue_page(manager):
    # /catalog/tasks/ is the fulfilment queue: an item named "Tasks" would never open.
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, data=item_data(name="Tasks"))
    assert (refused.value.code, refused.value.field) == ("slug_reserved", "slug")
    assert not CatalogItem.objects.exists()


def test_invalid_fields_are_refused_together_by_field(manager):
    with pytest.raises(ServiceError) as refused:
        item_save(
            actor=manager,
            data=item_data(
                price="-1",
                roles=["requester", "wizard"],
                organizations=[999_999],
                offering=999_999,
                currency="euro",
                colour="blue",
            ),
        )
    errors = refused.value.errors
    assert "negative" in " ".join(errors["price"])
    assert "wizard" in " ".join(errors["roles"])
    assert "999999" in " ".join(errors["organizations"])
    assert "999999" in " ".join(errors["offering"])
    assert "three-letter" in " ".join(errors["currency"])
    assert "colour" in errors
    assert not CatalogItem.objects.exists()


def test_a_missing_name_is_refused_by_full_clean(manager):
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, data=item_data(name="", slug="x-1", delivery_days=400))
    assert "name" in refused.value.errors
    assert "delivery_days" in refused.value.errors
    assert not CatalogItem.objects.exists()


def test_form_goes_through_formspec(manager):
    pytest.importorskip("opsdesk.catalog.formspec")
    form = [
        {"key": "model", "label": "Model", "type": "choice", "choices": ["Standard", "Performance"]},
        {
            "key": "reason",
            "label": "Why?",
            "type": "long_text",
            "show_if": {"field": "model", "in": ["Performance"]},
        },
    ]
    item = item_save(actor=manager, data=item_data(form=form))
    assert [field["key"] for field in item.form] == ["model", "reason"]
    duplicate = [*form, {"key": "model", "label": "Again", "type": "text"}]
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, item=item, data={"form": duplicate, "name": "Renamed"})
    assert "model" in error_text(refused, "form")
    item.refresh_from_db()
    assert item.name == "VPN token" and len(item.form) == 2


def test_picture_is_stored_under_a_random_name(manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = item_save(actor=manager, data=item_data(picture=picture("JPEG", "my laptop.jpeg")))
    assert item.picture.name.startswith("catalog/pictures/")
    assert item.picture.name.endswith(".jpg") and "laptop" not in item.picture.name
    assert (tmp_path / item.picture.name).exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>'), "SVG"),
        (SimpleUploadedFile("logo.png", b"<svg onload='alert(1)'/>"), "SVG"),
        (SimpleUploadedFile("tool.png", b"MZ\x90\x00not an image at all"), "not a picture"),
        (SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * MAX_PICTURE_BYTES), "2 MB"),
        ("bmp", "BMP pictures are not accepted"),
    ],
)
def test_bad_pictures_are_refused(manager, settings, tmp_path, upload, message):
    settings.MEDIA_ROOT = tmp_path
    if upload == "bmp":
        upload = picture("BMP", "old.bmp")
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, data=item_data(picture=upload))
    assert message in error_text(refused, "picture")
    assert not CatalogItem.objects.exists()
    assert not list(tmp_path.rglob("*.*"))


def test_an_ordered_item_cannot_be_deleted(manager, make_user, item):
    requester = make_user()
    ticket = ticket_create(actor=requester, title="New laptop", type=TicketType.REQUEST)
    CatalogRequest.objects.create(
        ticket=ticket,
        item=item,
        ordered_by=requester,
        requested_for=requester,
        price=item.price,
        currency=item.currency,
        state=RequestState.AWAITING_APPROVAL,
    )
    with pytest.raises(ServiceError) as refused:
        item_delete(actor=manager, item=item)
    assert refused.value.code == "in_use"
    assert "deactivate" in refused.value.message
    assert CatalogItem.objects.filter(pk=item.pk).exists()


def test_deleting_an_unordered_item_removes_its_definition_with_audit(manager, item):
    team = TeamFactory()
    approval_steps_save(actor=manager, item=item, steps=[{"kind": ApproverKind.MANAGER}])
    task_plan_save(actor=manager, item=item, tasks=[{"name": "Image it", "team": team.pk}])
    item.refresh_from_db()
    step, task, pk = item.approval_steps.get(), item.task_templates.get(), item.pk
    item_delete(actor=manager, item=item, expected_version=item.version)
    assert not CatalogItem.objects.filter(pk=pk).exists()
    assert audit_rows(step, "delete").exists() and audit_rows(task, "delete").exists()
    assert audit_rows(CatalogItem(pk=pk), "delete").get().actor == manager


# --- approval steps -----------------------------------------------------------------------------
def test_steps_are_replaced_in_order(manager, make_user, item):
    approvers = ApprovalGroupFactory(
        name="Finance approvers", members=[make_user(), make_user(), make_user()]
    )
    cfo = make_user(first_name="Carla")
    steps = approval_steps_save(
        actor=manager,
        item=item,
        steps=[
            {"kind": ApproverKind.MANAGER, "name": "Manager"},
            {"kind": ApproverKind.GROUP, "group": approvers.pk, "required": 2, "name": "Finance"},
            {"kind": ApproverKind.PERSON, "person": cfo.pk, "escalate_after_hours": 0},
        ],
    )
    assert [(step.position, step.kind, step.required) for step in steps] == [
        (1, "manager", 1),
        (2, "group", 2),
        (3, "person", 1),
    ]
    assert steps[2].escalate_after_hours == 0
    first = steps[0]
    again = approval_steps_save(
        actor=manager, item=item, steps=[{"kind": ApproverKind.GROUP, "group": approvers}]
    )
    assert [step.kind for step in again] == ["group"]
    assert ApprovalStep.objects.filter(item=item).count() == 1
    assert again[0].pk == first.pk  # position 1 was changed in place: its history stays on one row
    assert audit_rows(first, "update").exists()
    assert approval_steps_save(actor=manager, item=item, steps=[]) == []
    assert not item.approval_steps.exists()


def test_steps_given_positions_are_ordered_by_them(manager, make_user, item):
    person = make_user()
    steps = approval_steps_save(
        actor=manager,
        item=item,
        steps=[
            {"position": 2, "kind": ApproverKind.MANAGER},
            {"position": 1, "kind": ApproverKind.PERSON, "person": person.pk},
        ],
    )
    assert [step.kind for step in steps] == ["person", "manager"]
    with pytest.raises(ServiceError) as refused:
        approval_steps_save(
            actor=manager,
            item=item,
            steps=[
                {"position": 1, "kind": ApproverKind.MANAGER},
                {"position": 3, "kind": ApproverKind.MANAGER},
            ],
        )
    assert "1 to 2" in error_text(refused, "steps")


def test_steps_that_could_never_complete_are_refused_naming_the_step(manager, make_user, item):
    pair = ApprovalGroupFactory(
        name="Finance approvers", members=[make_user(), make_user(), make_user(is_active=False)]
    )
    empty = ApprovalGroupFactory(name="Nobody")
    gone = make_user(is_active=False, first_name="Gus", last_name="Gone")
    approval_steps_save(actor=manager, item=item, steps=[{"kind": ApproverKind.MANAGER}])
    with pytest.raises(ServiceError) as refused:
        approval_steps_save(
            actor=manager,
            item=item,
            steps=[
                {"kind": ApproverKind.MANAGER, "required": 2},
                {"kind": ApproverKind.GROUP, "group": pair.pk, "required": 3},
                {"kind": ApproverKind.GROUP},
                {"kind": ApproverKind.PERSON, "person": gone.pk},
                {"kind": ApproverKind.PERSON},
                {"kind": "oracle"},
                {"kind": ApproverKind.GROUP, "group": empty.pk},
                {"kind": ApproverKind.MANAGER, "group": pair.pk},
            ],
        )
    text = error_text(refused, "steps")
    assert "Step 1: the requester's manager is one person" in text
    assert (
        "Step 2: needs 3 approvals but Finance approvers has only 2 active members: it could never complete"
        in text
    )
    assert "Step 3: a group step needs an approval group" in text
    assert "Step 4: Gus Gone is deactivated" in text
    assert "Step 5: a person step needs the person" in text
    assert "Step 6: choose who approves" in text
    assert "Step 7: needs 1 approvals but Nobody has only 0" in text
    assert "Step 8: only a group step names an approval group" in text
    # Nothing half-written: the previous single step stands.
    assert [step.kind for step in item.approval_steps.all()] == ["manager"]


def test_service_owner_step_needs_an_owner(manager, make_user, item):
    with pytest.raises(ServiceError) as refused:
        approval_steps_save(actor=manager, item=item, steps=[{"kind": ApproverKind.SERVICE_OWNER}])
    assert "has no active owner" in error_text(refused, "steps")
    service = item.offering.service
    service.owner = make_user(Role.SERVICE_OWNER)
    service.save()
    assert approval_steps_save(actor=manager, item=item, steps=[{"kind": ApproverKind.SERVICE_OWNER}])


def test_too_many_steps_and_malformed_lists_are_refused(manager, item):
    with pytest.raises(ServiceError) as refused:
        approval_steps_save(actor=manager, item=item, steps=[{"kind": ApproverKind.MANAGER}] * 11)
    assert refused.value.code == "too_many"
    with pytest.raises(ServiceError):
        approval_steps_save(actor=manager, item=item, steps="manager")
    with pytest.raises(ServiceError) as refused:
        approval_steps_save(actor=manager, item=item, steps=[{"kind": "manager", "required": "two"}])
    assert "whole number" in error_text(refused, "steps")
    with pytest.raises(ServiceError) as refused:
        approval_steps_save(
            actor=manager, item=item, steps=[{"kind": "manager", "remind_after_hours": 99_999}]
        )
    assert "Step 1:" in error_text(refused, "steps")
    assert not item.approval_steps.exists()


def test_steps_save_refuses_a_stale_item_version(manager, item):
    stale = item.version
    approval_steps_save(actor=manager, item=item, steps=[{"kind": "manager"}], expected_version=stale)
    item.refresh_from_db()
    assert item.version == stale + 1
    with pytest.raises(ConcurrencyConflict):
        approval_steps_save(actor=manager, item=item, steps=[], expected_version=stale)
    assert item.approval_steps.count() == 1


# --- fulfilment plan ----------------------------------------------------------------------------
def test_task_plan_is_replaced_by_stage(manager, item):
    desk, network = TeamFactory(name="Desk"), TeamFactory(name="Network")
    tasks = task_plan_save(
        actor=manager,
        item=item,
        tasks=[
            {"name": "Order the laptop", "team": desk.pk, "stage": 1, "target_minutes": 960},
            {"name": "Hand it over", "team": desk, "stage": 2},
            {"name": "VPN profile", "team": network.pk, "stage": 1, "target_minutes": 60},
        ],
    )
    assert [(task.stage, task.name) for task in tasks] == [
        (1, "Order the laptop"),
        (1, "VPN profile"),
        (2, "Hand it over"),
    ]
    assert tasks[2].target_minutes == TaskTemplate._meta.get_field("target_minutes").default
    again = task_plan_save(actor=manager, item=item, tasks=[{"name": "Only one", "team": desk.pk}])
    assert [task.name for task in again] == ["Only one"]
    assert TaskTemplate.objects.filter(item=item).count() == 1
    assert audit_rows(tasks[1], "delete").exists()


def test_bad_tasks_are_refused_naming_the_task(manager, item):
    desk = TeamFactory()
    task_plan_save(actor=manager, item=item, tasks=[{"name": "Keep me", "team": desk.pk}])
    with pytest.raises(ServiceError) as refused:
        task_plan_save(
            actor=manager,
            item=item,
            tasks=[
                {"name": "No team"},
                {"name": "Zero target", "team": desk.pk, "target_minutes": 0},
                {"name": "", "team": desk.pk, "stage": 0},
                {"name": "Ghost team", "team": 999_999, "colour": "red"},
            ],
        )
    text = error_text(refused, "tasks")
    assert "Task 1: choose the team" in text
    assert "Task 2: the target must be" in text
    assert "Task 3: give the task a name" in text and "Task 3: the stage must be" in text
    assert "Task 4: there is no team with id 999999" in text and "'colour'" in text
    assert [task.name for task in item.task_templates.all()] == ["Keep me"]
    with pytest.raises(ServiceError) as refused:
        task_plan_save(actor=manager, item=item, tasks=[{"name": "Later", "team": desk.pk, "stage": 3}])
    assert "no task is in stage 1, 2" in error_text(refused, "tasks")
    with pytest.raises(ServiceError) as refused:
        task_plan_save(actor=manager, item=item, tasks=[{"name": "x", "team": desk.pk}] * 31)
    assert refused.value.code == "too_many"


# --- approval groups ----------------------------------------------------------------------------
def test_group_members_are_audited_and_kept_large_enough(manager, make_user, item):
    ana, ben, cem = make_user(), make_user(), make_user()
    group = approval_group_save(
        actor=manager, data={"name": "Finance approvers", "members": [ana.pk, ben.pk, cem.pk]}
    )
    assert set(group.members.all()) == {ana, ben, cem}
    approval_steps_save(actor=manager, item=item, steps=[{"kind": "group", "group": group.pk, "required": 3}])
    group.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        approval_group_save(
            actor=manager, group=group, data={"members": [ana.pk, ben.pk]}, expected_version=group.version
        )
    assert refused.value.code == "group_too_small"
    assert "New laptop (step 1 needs 3)" in error_text(refused, "members")
    assert set(group.members.all()) == {ana, ben, cem}
    approval_group_save(actor=manager, group=group, data={"members": [ana, ben, cem, make_user()]})
    member_changes = audit_rows(group).filter(changes__has_key="members")
    assert member_changes.count() == 2


def test_group_save_refuses_unknown_people_duplicates_and_stale_versions(manager, make_user):
    group = approval_group_save(actor=manager, data={"name": "CAB"})
    with pytest.raises(ServiceError) as refused:
        approval_group_save(actor=manager, data={"name": "cab"})
    assert refused.value.code == "name_taken"
    with pytest.raises(ServiceError) as refused:
        approval_group_save(actor=manager, group=group, data={"members": [999_999, "x"]})
    assert "999999" in error_text(refused, "members")
    sleeper = make_user(is_active=False)
    with pytest.raises(ServiceError) as refused:
        approval_group_save(actor=manager, group=group, data={"members": [sleeper.pk]})
    assert "Deactivated" in error_text(refused, "members")
    stale = group.version
    approval_group_save(actor=manager, group=group, data={"description": "Changes"}, expected_version=stale)
    with pytest.raises(ConcurrencyConflict):
        approval_group_save(actor=manager, group=group, data={"name": "Board"}, expected_version=stale)
    assert ApprovalGroup.objects.get().name == "CAB"


def test_a_group_in_use_cannot_be_deleted(manager, make_user, item):
    group = ApprovalGroupFactory(name="Security", members=[make_user()])
    approval_steps_save(actor=manager, item=item, steps=[{"kind": "group", "group": group.pk}])
    with pytest.raises(ServiceError) as refused:
        approval_group_delete(actor=manager, group=group)
    assert refused.value.code == "in_use" and "New laptop" in refused.value.message
    approval_steps_save(actor=manager, item=item, steps=[])
    approval_group_delete(actor=manager, group=group)
    assert not ApprovalGroup.objects.exists()


# --- categories ---------------------------------------------------------------------------------
def test_categories_derive_slugs_and_refuse_deleting_while_in_use(manager, item):
    category = category_save(actor=manager, data={"name": "Access & accounts"})
    assert category.slug == "access-accounts"
    with pytest.raises(ServiceError) as refused:
        category_save(actor=manager, data={"name": "Other", "slug": "access-accounts"})
    assert refused.value.code == "slug_taken"
    with pytest.raises(ServiceError) as refused:
        category_delete(actor=manager, category=item.category)
    assert refused.value.code == "in_use"
    category_delete(actor=manager, category=category, expected_version=category.version)
    assert not CatalogCategory.objects.filter(pk=category.pk).exists()


# --- refinements: what a concurrent or repeated edit leaves -------------------------------------
def test_a_refused_edit_leaves_the_callers_item_as_stored(manager, item):
    with pytest.raises(ServiceError):
        item_save(actor=manager, item=item, data={"name": "", "price": "12.00"})
    assert item.name == "New laptop" and item.price == Decimal("0")


def test_replaced_steps_take_defaults_for_what_is_left_out(manager, item):
    approval_steps_save(
        actor=manager, item=item, steps=[{"kind": "manager", "remind_after_hours": 2, "name": "Boss"}]
    )
    (step,) = approval_steps_save(actor=manager, item=item, steps=[{"kind": "manager"}])
    step.refresh_from_db()
    defaults = {name: ApprovalStep._meta.get_field(name).default for name in ("remind_after_hours", "name")}
    assert (step.remind_after_hours, step.name) == (defaults["remind_after_hours"], "")


def test_an_outdated_copy_of_the_item_still_moves_its_version_forward(manager, item):
    outdated = CatalogItem.objects.get(pk=item.pk)
    item_save(actor=manager, item=item, data={"name": "Laptop"})
    item_save(actor=manager, item=item, data={"name": "Laptop 2"})
    approval_steps_save(actor=manager, item=outdated, steps=[{"kind": "manager"}])
    item.refresh_from_db()
    assert item.version == outdated.version == 4
    assert item.name == "Laptop 2"  # replacing the steps did not write the outdated fields back


def test_permission_is_checked_before_the_input(make_user, item):
    with pytest.raises(NotAllowed):
        approval_steps_save(actor=make_user(Role.AGENT), item=item, steps=[{"kind": "oracle"}] * 20)
    with pytest.raises(NotAllowed):
        task_plan_save(actor=make_user(Role.REQUESTER), item=item, tasks="everything")


def test_step_and_task_changes_are_audited_with_the_actor(manager, item):
    (step,) = approval_steps_save(actor=manager, item=item, steps=[{"kind": "manager", "name": "Manager"}])
    (task,) = task_plan_save(actor=manager, item=item, tasks=[{"name": "Ship it", "team": TeamFactory().pk}])
    assert audit_rows(step, "create").get().actor == manager
    assert audit_rows(task, "create").get().changes["name"] == [None, "Ship it"]


def test_a_replaced_picture_is_removed_from_storage(
    manager, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    item = item_save(actor=manager, data=item_data(picture=picture()))
    first = tmp_path / item.picture.name
    with django_capture_on_commit_callbacks(execute=True):
        item_save(actor=manager, item=item, data={"picture": picture("WEBP", "new.webp")})
    assert not first.exists()
    assert (tmp_path / item.picture.name).exists() and item.picture.name.endswith(".webp")
    with django_capture_on_commit_callbacks(execute=True):
        item_save(actor=manager, item=item, data={"picture": False})
    item.refresh_from_db()
    assert not item.picture and not list(tmp_path.rglob("*.webp"))


def test_a_poster_sized_picture_is_refused(manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, data=item_data(picture=picture("PNG", "wide.png", size=(5000, 10))))
    assert "5000×10" in error_text(refused, "picture")


def test_moving_an_item_to_a_service_without_owner_keeps_its_owner_step_possible(manager, make_user, item):
    service = item.offering.service
    service.owner = make_user(Role.SERVICE_OWNER)
    service.save()
    approval_steps_save(actor=manager, item=item, steps=[{"kind": ApproverKind.SERVICE_OWNER}])
    ownerless = OfferingFactory()
    with pytest.raises(ServiceError) as refused:
        item_save(actor=manager, item=item, data={"offering": ownerless.pk})
    assert "no active owner" in error_text(refused, "offering")
    assert CatalogItem.objects.get(pk=item.pk).offering_id == item.offering_id != ownerless.pk
