"""What an item asks of the people around it: its approval steps (who approves, in which
order, how many), its fulfilment plan (which team does what, in which stage) and the approval
groups that steps name.

Each replacement checks the actor's rights, locks the item at the version the editor read,
validates the whole list first (every problem at once, naming the step or task) and writes in
one transaction, so a refused change leaves the old definition in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from opsdesk.accounts.models import Team, User
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.constants import MAX_APPROVAL_STEPS, MAX_TASKS
from opsdesk.catalog.models import ApprovalGroup, ApprovalStep, CatalogItem, TaskTemplate
from opsdesk.catalog.services.editing import (
    ECHOED_KEYS,
    as_id,
    audit_relation,
    editable_fields,
    ids_from,
    in_use,
    lock_version,
    refuse,
    related_row,
    restored_on_error,
    save_checked,
    unique_name,
    unknown_keys,
)
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import check_version, ensure_allowed

GROUP_FIELDS = editable_fields(ApprovalGroup)
STEP_FIELDS = editable_fields(ApprovalStep) - {"item"}
TASK_FIELDS = editable_fields(TaskTemplate) - {"item"}
# Reminders and escalation of an approval step: a quarter of a year is the longest sensible wait.
MAX_WAIT_HOURS = 24 * 90
SINGLE_APPROVER_KINDS = (ApproverKind.MANAGER, ApproverKind.SERVICE_OWNER, ApproverKind.PERSON)


# --- approval steps -----------------------------------------------------------------------------
def _definition_lock(
    *, actor: User, item: CatalogItem, model: type[models.Model], expected_version: int | None
) -> None:
    """Checks and locks before an item's steps or plan are replaced. The item's version goes up
    with the change, so two people editing the same item's definition cannot overwrite each other."""
    ensure_allowed(actor=actor, action="change", instance=item)
    ensure_allowed(actor=actor, action="change", model=model)
    lock_version(item, expected_version=expected_version)


def _list_of_dicts(value: Any, *, what: str, field: str, limit: int) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise ServiceError(
            f"Give the {what} as a list.",
            code="invalid",
            field=field,
            errors={field: [f"Give the {what} as a list."]},
        )
    entries = list(value)
    if len(entries) > limit:
        message = f"An item may have at most {limit} {what}; this list has {len(entries)}."
        raise ServiceError(message, code="too_many", field=field, errors={field: [message]})
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            message = f"{what.capitalize()[:-1]} {position} is not a set of fields."
            raise ServiceError(message, code="invalid", field=field, errors={field: [message]})
    return entries


def approval_steps_save(
    *, actor: User, item: CatalogItem, steps: list[dict[str, Any]], expected_version: int | None = None
) -> list[ApprovalStep]:
    """Replace the item's approval steps with ``steps`` (in order; ``group``/``person`` by id).

    Refuses, naming the step, anything that could never complete: a group step without a group or
    needing more approvals than the group has active members, a person step without an active
    person, more than one approval from a single approver, a service-owner step on a service
    without an owner. ``expected_version`` (the item's) guards against a concurrent edit."""
    with transaction.atomic(), acting(actor=actor):
        _definition_lock(actor=actor, item=item, model=ApprovalStep, expected_version=expected_version)
        prepared = _steps_prepared(item=item, steps=steps)
        existing = {step.position: step for step in item.approval_steps.all()}
        # The steps beyond the new list's end go first: positions are unique per item.
        for position, step in sorted(existing.items()):
            if position > len(prepared):
                step.delete()
        saved = []
        for position, values in enumerate(prepared, start=1):
            step = existing.get(position) or ApprovalStep(item=item, position=position)
            for name, value in values.items():
                setattr(step, name, value)
            save_checked(step, prefix=f"Step {position}: ", field="steps")
            saved.append(step)
        item.save(update_fields=["updated_at"])
    return saved


def _steps_prepared(*, item: CatalogItem, steps: Any) -> list[dict[str, Any]]:
    """The steps' field values in order, or every problem at once, each naming its step."""
    entries = _list_of_dicts(steps, what="approval steps", field="steps", limit=MAX_APPROVAL_STEPS)
    errors: list[str] = []
    positions = [entry.get("position") for entry in entries]
    if any(position not in (None, "") for position in positions):
        given = [as_id(position) for position in positions]
        if None in given or sorted(given) != list(range(1, len(entries) + 1)):
            shown = ", ".join(str(position) for position in positions)
            errors.append(
                f"Step positions must run 1 to {len(entries)} without gaps or repeats (got {shown})."
            )
        else:
            entries = [
                entry for _, entry in sorted(zip(given, entries, strict=True), key=lambda pair: pair[0])
            ]
    # Held until the steps are written: a group cannot lose members under a step being saved.
    group_ids = [as_id(entry.get("group")) for entry in entries if entry.get("kind") == ApproverKind.GROUP]
    list(
        ApprovalGroup.objects.select_for_update().filter(pk__in=[pk for pk in group_ids if pk]).order_by("pk")
    )
    prepared = []
    for position, entry in enumerate(entries, start=1):
        values, messages = _step_values(item=item, entry=entry)
        errors.extend(f"Step {position}: {message}" for message in messages)
        prepared.append(values)
    refuse({"steps": errors})
    return prepared


def _step_values(*, item: CatalogItem, entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    messages = [
        f"there is no field {name!r}." for name in unknown_keys(entry, STEP_FIELDS, ignore=ECHOED_KEYS)
    ]
    kind = entry.get("kind")
    if kind not in ApproverKind.values:
        messages.append(f"choose who approves ({', '.join(ApproverKind.values)}), not {kind!r}.")
        return {}, messages
    required = as_id(entry.get("required", 1))
    if required is None or required < 1:
        messages.append("the number of approvals needed must be a whole number of at least 1.")
        required = 1
    values: dict[str, Any] = {
        "kind": kind,
        "name": str(entry.get("name") or "").strip(),
        "required": required,
        "group": None,
        "person": None,
    }
    for name in ("remind_after_hours", "escalate_after_hours"):
        # Replacing the list: a value left out is the default, not what the old step had.
        given = entry.get(name)
        hours = as_id(ApprovalStep._meta.get_field(name).default if given in (None, "") else given)
        if hours is None or not 0 <= hours <= MAX_WAIT_HOURS:
            messages.append(
                f"{name.replace('_', ' ')} must be a whole number of hours from 0 to {MAX_WAIT_HOURS}."
            )
        values[name] = hours if hours is not None else 0
    if kind in SINGLE_APPROVER_KINDS and required != 1:
        who = ApproverKind(kind).label.lower()
        messages.append(f"{who} is one person, so it can give only 1 approval, not {required}.")
    if kind != ApproverKind.GROUP and entry.get("group") not in (None, ""):
        messages.append("only a group step names an approval group.")
    if kind != ApproverKind.PERSON and entry.get("person") not in (None, ""):
        messages.append("only a person step names a person.")
    if kind == ApproverKind.GROUP:
        group, error = related_row(ApprovalGroup, entry.get("group"), what="approval group")
        if error or group is None:
            messages.append(error or "a group step needs an approval group.")
        else:
            members = group.members.filter(is_active=True).count()
            if required > members:
                messages.append(
                    f"needs {required} approvals but {group.name} has only {members} active "
                    f"member{'s' if members != 1 else ''}: it could never complete."
                )
            values["group"] = group
    elif kind == ApproverKind.PERSON:
        person, error = related_row(User, entry.get("person"), what="person")
        if error or person is None:
            messages.append(error or "a person step needs the person who approves.")
        elif not person.is_active:
            messages.append(f"{person.get_full_name() or person.username} is deactivated and cannot approve.")
        else:
            values["person"] = person
    elif kind == ApproverKind.SERVICE_OWNER:
        service = item.offering.service
        if service.owner_id is None or not service.owner.is_active:
            messages.append(f"the service {service.name} has no active owner to approve: record one first.")
    return values, messages


# --- fulfilment plan ----------------------------------------------------------------------------
def task_plan_save(
    *, actor: User, item: CatalogItem, tasks: list[dict[str, Any]], expected_version: int | None = None
) -> list[TaskTemplate]:
    """Replace the item's fulfilment plan with ``tasks`` (``team`` by id). Stages run in order
    and must be numbered 1, 2, 3… without gaps; the tasks of a stage run in parallel."""
    with transaction.atomic(), acting(actor=actor):
        _definition_lock(actor=actor, item=item, model=TaskTemplate, expected_version=expected_version)
        prepared = _tasks_prepared(tasks)
        existing = list(item.task_templates.order_by("pk"))
        for template in existing[len(prepared) :]:
            template.delete()
        saved = []
        for position, values in enumerate(prepared, start=1):
            template = existing[position - 1] if position <= len(existing) else TaskTemplate(item=item)
            for name, value in values.items():
                setattr(template, name, value)
            save_checked(template, prefix=f"Task {position}: ", field="tasks")
            saved.append(template)
        item.save(update_fields=["updated_at"])
    return sorted(saved, key=lambda template: (template.stage, template.pk))


def _tasks_prepared(tasks: Any) -> list[dict[str, Any]]:
    """The tasks' field values in order, or every problem at once, each naming its task."""
    entries = _list_of_dicts(tasks, what="tasks", field="tasks", limit=MAX_TASKS)
    errors: list[str] = []
    prepared = []
    for position, entry in enumerate(entries, start=1):
        values, messages = _task_values(entry)
        errors.extend(f"Task {position}: {message}" for message in messages)
        prepared.append(values)
    stages = sorted({values["stage"] for values in prepared if values.get("stage")})
    if not errors and stages != list(range(1, len(stages) + 1)):
        missing = sorted(set(range(1, stages[-1] + 1)) - set(stages))
        errors.append(
            f"Stages run in order 1, 2, 3… without gaps: no task is in stage {', '.join(map(str, missing))}."
        )
    refuse({"tasks": errors})
    return prepared


def _task_values(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    messages = [
        f"there is no field {name!r}." for name in unknown_keys(entry, TASK_FIELDS, ignore=ECHOED_KEYS)
    ]
    values: dict[str, Any] = {
        "name": str(entry.get("name") or "").strip(),
        "instructions": str(entry.get("instructions") or ""),
    }
    if not values["name"]:
        messages.append("give the task a name.")
    team, error = related_row(Team, entry.get("team"), what="team")
    if error or team is None:
        messages.append(error or "choose the team that does this task.")
    values["team"] = team
    stage = as_id(entry.get("stage", 1))
    if stage is None or stage < 1:
        messages.append("the stage must be a whole number of at least 1.")
    values["stage"] = stage
    target = as_id(entry.get("target_minutes", TaskTemplate._meta.get_field("target_minutes").default))
    if target is None or target < 1:
        messages.append("the target must be a whole number of business minutes, at least 1.")
    values["target_minutes"] = target
    return values, messages


# --- approval groups ----------------------------------------------------------------------------
def approval_group_save(
    *,
    actor: User,
    group: ApprovalGroup | None = None,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> ApprovalGroup:
    """Create or change an approval group (``members`` by id). Refuses leaving the group with
    fewer active members than a step using it needs, naming the items concerned."""
    creating = group is None
    if creating:
        ensure_allowed(actor=actor, action="add", model=ApprovalGroup)
        group = ApprovalGroup()
    else:
        ensure_allowed(actor=actor, action="change", instance=group)
    errors = {name: [f"Approval groups have no field {name!r}."] for name in unknown_keys(data, GROUP_FIELDS)}
    members = None
    if "members" in data:
        members, messages = ids_from(data["members"], what="people")
        people = {person.pk: person for person in User.objects.filter(pk__in=members)}
        missing = [str(pk) for pk in members if pk not in people]
        if missing:
            messages.append(f"There is no person with id {', '.join(missing)}.")
        current = set() if creating else set(group.members.values_list("pk", flat=True))
        inactive = [
            people[pk] for pk in members if pk in people and not people[pk].is_active and pk not in current
        ]
        if inactive:
            names = ", ".join(person.get_full_name() or person.username for person in inactive)
            messages.append(f"Deactivated people cannot approve: {names}.")
        if messages:
            errors["members"] = messages
    refuse(errors)
    with restored_on_error(group), transaction.atomic(), acting(actor=actor):
        if not creating:
            lock_version(group, expected_version=expected_version)
        for name in ("name", "description"):
            if name in data:
                setattr(group, name, str(data[name] or "").strip())
        unique_name(group, model=ApprovalGroup, what="approval group")
        save_checked(group)
        if members is not None:
            before = [] if creating else list(group.members.values_list("pk", flat=True))
            group.members.set(members)
            if not creating or members:
                audit_relation(group, "members", before, members)
            if not creating:
                _check_group_still_suffices(group)
    return group


def _check_group_still_suffices(group: ApprovalGroup) -> None:
    active = group.members.filter(is_active=True).count()
    short = list(
        ApprovalStep.objects.filter(group=group, required__gt=active)
        .select_related("item")
        .order_by("item__name", "position")
    )
    if short:
        steps = "; ".join(f"{step.item.name} (step {step.position} needs {step.required})" for step in short)
        message = (
            f"{group.name} would have only {active} active member{'s' if active != 1 else ''}, fewer than "
            f"these approval steps need: {steps}. Lower those steps' approvals first, or keep more members."
        )
        raise ServiceError(message, code="group_too_small", field="members", errors={"members": [message]})


def approval_group_delete(*, actor: User, group: ApprovalGroup, expected_version: int | None = None) -> None:
    """Delete a group no approval step uses; otherwise refuse, naming the items."""
    ensure_allowed(actor=actor, action="delete", instance=group)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=group, expected_version=expected_version)
        items = sorted(
            set(CatalogItem.objects.filter(approval_steps__group=group).values_list("name", flat=True))
        )
        if items:
            raise in_use(
                f"{group.name} approves steps of {', '.join(items)}: "
                "change those steps before deleting the group."
            )
        before = list(group.members.values_list("pk", flat=True))
        audit_relation(group, "members", before, [])
        group.delete()
