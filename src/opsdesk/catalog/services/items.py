"""Maintaining the catalogue: categories, items (with their form, picture and who may order
them), each item's approval steps and fulfilment plan, and the approval groups.

Every write checks the actor's rights, validates the whole input first and writes in one
transaction, so a refused change leaves nothing half-written. Errors name the field, the step
or the task at fault (``ServiceError.errors``)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Organization, Team, User
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.constants import MAX_APPROVAL_STEPS, MAX_TASKS, RESERVED_ITEM_SLUGS
from opsdesk.catalog.models import ApprovalGroup, ApprovalStep, CatalogCategory, CatalogItem, TaskTemplate
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.models import AuditEntry, AuditOperation
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.portfolio.models import Offering
from opsdesk.tickets.models import Category

# An item's picture: a real raster image, small enough for the catalogue's cards. SVG is refused
# because it is a document that can carry scripts.
MAX_PICTURE_BYTES = 2 * 1024 * 1024
PICTURE_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}
# Browsers decode the picture on every card: no poster-sized images.
MAX_PICTURE_SIDE = 4000
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


def _editable_fields(model: type[models.Model]) -> frozenset[str]:
    return frozenset(
        field.name
        for field in model._meta.get_fields()
        if not field.auto_created and getattr(field, "editable", False)
    )


# What a caller may set: the model's editable fields (not the version, not the timestamps).
ITEM_FIELDS = _editable_fields(CatalogItem)
ITEM_RELATIONS = {
    "offering": Offering,
    "category": CatalogCategory,
    "ticket_category": Category,
    "fulfilment_team": Team,
}
CATEGORY_FIELDS = _editable_fields(CatalogCategory)
GROUP_FIELDS = _editable_fields(ApprovalGroup)
STEP_FIELDS = _editable_fields(ApprovalStep) - {"item"}
TASK_FIELDS = _editable_fields(TaskTemplate) - {"item"}
# Keys a client may echo back from what it read; they do not describe the new list.
ECHOED_KEYS = frozenset({"id", "pk", "item", "version", "created_at", "updated_at"})
# Reminders and escalation of an approval step: a quarter of a year is the longest sensible wait.
MAX_WAIT_HOURS = 24 * 90
SINGLE_APPROVER_KINDS = (ApproverKind.MANAGER, ApproverKind.SERVICE_OWNER, ApproverKind.PERSON)


# --- helpers ------------------------------------------------------------------------------------
def _refuse(errors: dict[str, list[str]], *, code: str = "invalid") -> None:
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        message = " ".join(message for messages in errors.values() for message in messages)
        raise ServiceError(message, code=code, field=next(iter(errors)), errors=errors)


def _as_service_error(exc: ValidationError, *, prefix: str = "", field: str | None = None) -> ServiceError:
    """A model's full_clean refusal as a ServiceError by field (or under ``field`` with ``prefix``)."""
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    errors: dict[str, list[str]] = {}
    for name, messages in by_field.items():
        key = field or ("non_field_errors" if name == "__all__" else name)
        label = "" if name == "__all__" or field is None else f"{name.replace('_', ' ')}: "
        errors.setdefault(key, []).extend(f"{prefix}{label}{message}" for message in messages)
    message = " ".join(message for messages in errors.values() for message in messages)
    return ServiceError(message, code="invalid", field=next(iter(errors)), errors=errors)


def _sentence(fragment: str) -> str:
    return fragment[:1].upper() + fragment[1:]


def _unknown_keys(
    data: dict[str, Any], allowed: frozenset[str], *, ignore: frozenset[str] = frozenset()
) -> list[str]:
    return sorted(str(key) for key in data if key not in allowed and key not in ignore)


def _as_id(value: Any) -> int | None:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _related(model: type[models.Model], value: Any, *, what: str) -> tuple[models.Model | None, str | None]:
    """(the row ``value`` names, or an error message). ``value`` is a row, an id or empty."""
    if value in (None, ""):
        return None, None
    if isinstance(value, model):
        return value, None
    pk = _as_id(value)
    found = model._default_manager.filter(pk=pk).first() if pk is not None else None
    if found is None:
        return None, f"there is no {what} with id {value!r}."
    return found, None


def _ids(values: Any, *, what: str) -> tuple[list[int], list[str]]:
    """Ids from a list of ids or rows (or a queryset); malformed entries become messages."""
    if values in (None, ""):
        return [], []
    if isinstance(values, str | bytes | dict) or not isinstance(values, Iterable):
        return [], [f"Give the {what} as a list of ids."]
    ids, bad = [], []
    for value in values:
        pk = _as_id(value)
        if pk is None:
            bad.append(repr(value))
        elif pk not in ids:
            ids.append(pk)
    return ids, ([f"These are not {what} ids: {', '.join(bad)}."] if bad else [])


def _audit_relation(instance: models.Model, name: str, before: list[int], after: list[int]) -> None:
    """Many-to-many changes bypass save(); the trail still shows who changed the list."""
    if sorted(before) != sorted(after):
        AuditEntry.record(instance, AuditOperation.UPDATE, {name: [sorted(before), sorted(after)]})


def _in_use(message: str) -> ServiceError:
    return ServiceError(message, code="in_use")


def _save(instance: models.Model, *, prefix: str = "", field: str | None = None) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise _as_service_error(exc, prefix=prefix, field=field) from None
    instance.save()


def _lock(instance: models.Model, *, expected_version: int | None) -> None:
    """Refuse a stale ``expected_version``, then hold the row (PostgreSQL's row lock, SQLite's
    write lock) and take its current version, so the save that follows counts from it."""
    check_version(instance=instance, expected_version=expected_version)
    current = (
        type(instance)
        ._default_manager.select_for_update()
        .filter(pk=instance.pk)
        .order_by("pk")
        .values_list("version", flat=True)
        .first()
    )
    if current is None:
        raise ServiceError(
            f"This {instance._meta.verbose_name} was deleted meanwhile.", code="not_found", field="version"
        )
    instance.version = current


@contextmanager
def _restored_on_error(instance: models.Model) -> Iterator[None]:
    """A refused change leaves the caller's instance as stored (a form shows it again), and a
    picture it stored goes again."""
    stored_picture = getattr(instance, "picture", None)
    stored_picture = stored_picture.name if stored_picture else ""
    try:
        yield
    except Exception:
        picture = getattr(instance, "picture", None)
        if picture and picture.name != stored_picture and getattr(picture, "_committed", False):
            picture.storage.delete(picture.name)
        if instance.pk is not None and type(instance)._default_manager.filter(pk=instance.pk).exists():
            instance.refresh_from_db()
        raise


# --- categories ---------------------------------------------------------------------------------
def category_save(
    *,
    actor: User,
    category: CatalogCategory | None = None,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> CatalogCategory:
    """Create or change a catalogue category; the slug derives from the name when left empty."""
    if category is None:
        ensure_allowed(actor=actor, action="add", model=CatalogCategory)
        category = CatalogCategory()
    else:
        ensure_allowed(actor=actor, action="change", instance=category)
    unknown = _unknown_keys(data, CATEGORY_FIELDS)
    _refuse({name: [f"Categories have no field {name!r}."] for name in unknown}, code="unknown_field")
    with _restored_on_error(category), transaction.atomic(), acting(actor=actor):
        if category.pk:
            _lock(category, expected_version=expected_version)
        for name, value in data.items():
            setattr(category, name, value)
        category.slug = _slug_for(category, model=CatalogCategory, what="category")
        _unique_name(category, model=CatalogCategory, what="category")
        _save(category)
    return category


def category_delete(*, actor: User, category: CatalogCategory, expected_version: int | None = None) -> None:
    """Delete an empty category; one that still holds items is refused (move them first)."""
    ensure_allowed(actor=actor, action="delete", instance=category)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=category, expected_version=expected_version)
        count = category.items.count()
        if count:
            raise _in_use(
                f"The category {category.name} still holds {count} item{'s' if count != 1 else ''}: "
                "move them to another category first."
            )
        category.delete()


def _slug_for(instance: models.Model, *, model: type[models.Model], what: str) -> str:
    slug = (getattr(instance, "slug", "") or "").strip() or slugify(getattr(instance, "name", "") or "")
    if not slug:
        raise ServiceError(
            f"Give the {what} a web address (slug) of letters, digits and hyphens.",
            code="invalid",
            field="slug",
        )
    if model is CatalogItem and slug in RESERVED_ITEM_SLUGS:
        raise ServiceError(
            f"The address {slug!r} belongs to the catalogue's own pages: choose another slug.",
            code="slug_reserved",
            field="slug",
        )
    clash = model._default_manager.filter(slug=slug).exclude(pk=instance.pk)
    if clash.exists():
        raise ServiceError(
            f"Another {what} already uses the address {slug!r}: choose another slug.",
            code="slug_taken",
            field="slug",
        )
    return slug


def _unique_name(instance: models.Model, *, model: type[models.Model], what: str) -> None:
    name = getattr(instance, "name", "")
    if name and model._default_manager.filter(name__iexact=name).exclude(pk=instance.pk).exists():
        raise ServiceError(f"Another {what} is already called {name!r}.", code="name_taken", field="name")


# --- items --------------------------------------------------------------------------------------
def item_save(
    *, actor: User, item: CatalogItem | None = None, data: dict[str, Any], expected_version: int | None = None
) -> CatalogItem:
    """Create or change a catalogue item.

    ``data`` holds model fields (relations as rows or ids), ``form`` (validated by
    ``formspec.form_validate``), ``organizations`` (ids) and ``roles`` (Role values). A new
    ``picture`` must be a PNG, JPEG, WebP or GIF image of at most 2 MB; ``False`` clears it."""
    creating = item is None
    if creating:
        ensure_allowed(actor=actor, action="add", model=CatalogItem)
        item = CatalogItem()
    else:
        ensure_allowed(actor=actor, action="change", instance=item)
    values, organizations = _item_values(data)
    old_picture = item.picture.name if item.picture else ""
    with _restored_on_error(item), transaction.atomic(), acting(actor=actor):
        if not creating:
            _lock(item, expected_version=expected_version)
        for name, value in values.items():
            setattr(item, name, value)
        item.slug = _slug_for(item, model=CatalogItem, what="item")
        if not creating and "offering" in values:
            _check_owner_still_approves(item)
        try:
            # A savepoint: a slug taken by a concurrent save is a clear error, not a broken transaction.
            with transaction.atomic():
                _save(item)
        except IntegrityError:
            raise ServiceError(
                f"Another item already uses the address {item.slug!r}: choose another slug.",
                code="slug_taken",
                field="slug",
            ) from None
        if organizations is not None:
            before = [] if creating else list(item.organizations.values_list("pk", flat=True))
            item.organizations.set(organizations)
            if not creating or organizations:
                _audit_relation(item, "organizations", before, organizations)
        new_picture = item.picture.name if item.picture else ""
        if old_picture and old_picture != new_picture:
            storage = item.picture.storage
            transaction.on_commit(lambda: storage.delete(old_picture))
    return item


def _check_owner_still_approves(item: CatalogItem) -> None:
    """Moving an item to another service must not strand its service-owner approval step."""
    service = item.offering.service if item.offering_id else None
    if service is None or (service.owner_id and service.owner.is_active):
        return
    if item.approval_steps.filter(kind=ApproverKind.SERVICE_OWNER).exists():
        message = (
            f"{item.name} needs the service owner's approval, and {service.name} has no active owner: "
            "record one, or change the approval steps first."
        )
        raise ServiceError(message, code="invalid", field="offering", errors={"offering": [message]})


def _item_values(data: dict[str, Any]) -> tuple[dict[str, Any], list[int] | None]:
    """The item's field values from ``data``, every error at once; organizations separately."""
    errors: dict[str, list[str]] = {}
    for name in _unknown_keys(data, ITEM_FIELDS):
        errors[name] = [f"Catalogue items have no field {name!r}."]
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in ITEM_FIELDS or name == "organizations":
            continue
        if name in ITEM_RELATIONS:
            related, error = _related(ITEM_RELATIONS[name], value, what=name.replace("_", " "))
            if error:
                errors[name] = [_sentence(error)]
            values[name] = related
        elif name == "form":
            try:
                values[name] = _form_validate(value)
            except ServiceError as exc:
                errors.update(exc.errors or {"form": [exc.message]})
        elif name == "roles":
            roles, error = _roles(value)
            if error:
                errors[name] = [error]
            values[name] = roles
        elif name == "price":
            price, error = _price(value)
            if error:
                errors[name] = [error]
            values[name] = price
        elif name == "currency":
            currency = str(value or "").strip().upper()
            if not CURRENCY_PATTERN.match(currency):
                errors[name] = ["Give the currency as a three-letter ISO code, such as EUR."]
            values[name] = currency
        elif name == "picture":
            try:
                values[name] = _picture(value)
            except ServiceError as exc:
                errors[name] = [exc.message]
        else:
            values[name] = value
    organizations = None
    if "organizations" in data:
        organizations, messages = _ids(data["organizations"], what="organisation")
        missing = sorted(
            set(organizations)
            - set(Organization.objects.filter(pk__in=organizations).values_list("pk", flat=True))
        )
        if missing:
            messages.append(f"There is no organisation with id {', '.join(map(str, missing))}.")
        if messages:
            errors["organizations"] = messages
    _refuse(errors)
    return values, organizations


def _form_validate(value: Any) -> list[dict]:
    try:
        # formspec is written alongside; imported here so items can be saved before it lands.
        from opsdesk.catalog.formspec import form_validate
    except ImportError:  # pragma: no cover - only until formspec.py exists
        if not isinstance(value, list):
            raise ServiceError(
                "The form must be a list of fields.",
                code="invalid_form",
                field="form",
                errors={"form": ["The form must be a list of fields."]},
            ) from None
        return value
    return form_validate(value if value is not None else [])


def _roles(value: Any) -> tuple[list[str], str | None]:
    if value in (None, ""):
        return [], None
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        return [], "Give the roles as a list."
    roles = []
    for role in value:
        if role not in Role.values:
            return [], f"{role!r} is not a role; choose among {', '.join(Role.values)}."
        if role not in roles:
            roles.append(str(role))
    return roles, None


def _price(value: Any) -> tuple[Decimal, str | None]:
    if value in (None, ""):
        return Decimal("0"), None
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("0"), f"{value!r} is not a price."
    if not price.is_finite():
        return Decimal("0"), f"{value!r} is not a price."
    if price < 0:
        return price, "The price cannot be negative."
    return price, None


def _picture(value: Any) -> Any:
    """A new upload checked as a picture (and given a random stored name); anything else as is."""
    if value is False or value is None:
        return ""  # cleared
    if not isinstance(value, UploadedFile):
        return value  # the stored picture, unchanged
    from PIL import Image, UnidentifiedImageError

    name = os.path.basename(value.name or "")
    value.seek(0)
    head = value.read(512).lstrip()
    value.seek(0)
    if name.lower().endswith((".svg", ".svgz")) or head.startswith((b"<", b"\x1f\x8b")):
        raise ServiceError(
            "SVG pictures are not accepted (they can carry scripts): use PNG, JPEG, WebP or GIF."
        )
    if value.size > MAX_PICTURE_BYTES:
        raise ServiceError(f"The picture may be at most {MAX_PICTURE_BYTES // (1024 * 1024)} MB.")
    if value.size == 0:
        raise ServiceError("The picture file is empty.")
    try:
        with Image.open(value) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ServiceError(f"{name or 'The file'} is not a picture: use PNG, JPEG, WebP or GIF.") from None
    finally:
        value.seek(0)
    if image_format not in PICTURE_EXTENSIONS:
        raise ServiceError(f"{image_format} pictures are not accepted: use PNG, JPEG, WebP or GIF.")
    if max(width, height) > MAX_PICTURE_SIDE:
        raise ServiceError(
            f"The picture is {width}×{height} pixels; make it at most {MAX_PICTURE_SIDE} pixels on each side."
        )
    # Stored under a random name: an uploaded name never becomes a path.
    value.name = uuid.uuid4().hex + PICTURE_EXTENSIONS[image_format]
    return value


def item_delete(*, actor: User, item: CatalogItem, expected_version: int | None = None) -> None:
    """Delete an item nobody has ordered yet, with its steps and plan; one with orders is refused
    (deactivate it instead, so its requests keep their item)."""
    ensure_allowed(actor=actor, action="delete", instance=item)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=item, expected_version=expected_version)
        count = item.requests.count()
        if count:
            raise _in_use(
                f"{item.name} has been ordered {count} time{'s' if count != 1 else ''}, so it cannot be "
                "deleted: deactivate it instead (untick Active) and nobody can order it any more."
            )
        # One by one, so the audit trail records each step and task of the plan going.
        for step in item.approval_steps.all():
            step.delete()
        for task in item.task_templates.all():
            task.delete()
        picture = item.picture.name if item.picture else ""
        storage = item.picture.storage
        item.delete()
        if picture:
            transaction.on_commit(lambda: storage.delete(picture))


# --- approval steps -----------------------------------------------------------------------------
def _definition_lock(
    *, actor: User, item: CatalogItem, model: type[models.Model], expected_version: int | None
) -> None:
    """Checks and locks before an item's steps or plan are replaced. The item's version goes up
    with the change, so two people editing the same item's definition cannot overwrite each other."""
    ensure_allowed(actor=actor, action="change", instance=item)
    ensure_allowed(actor=actor, action="change", model=model)
    _lock(item, expected_version=expected_version)


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
            _save(step, prefix=f"Step {position}: ", field="steps")
            saved.append(step)
        item.save(update_fields=["updated_at"])
    return saved


def _steps_prepared(*, item: CatalogItem, steps: Any) -> list[dict[str, Any]]:
    """The steps' field values in order, or every problem at once, each naming its step."""
    entries = _list_of_dicts(steps, what="approval steps", field="steps", limit=MAX_APPROVAL_STEPS)
    errors: list[str] = []
    positions = [entry.get("position") for entry in entries]
    if any(position not in (None, "") for position in positions):
        given = [_as_id(position) for position in positions]
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
    group_ids = [_as_id(entry.get("group")) for entry in entries if entry.get("kind") == ApproverKind.GROUP]
    list(
        ApprovalGroup.objects.select_for_update().filter(pk__in=[pk for pk in group_ids if pk]).order_by("pk")
    )
    prepared = []
    for position, entry in enumerate(entries, start=1):
        values, messages = _step_values(item=item, entry=entry)
        errors.extend(f"Step {position}: {message}" for message in messages)
        prepared.append(values)
    _refuse({"steps": errors})
    return prepared


def _step_values(*, item: CatalogItem, entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    messages = [
        f"there is no field {name!r}." for name in _unknown_keys(entry, STEP_FIELDS, ignore=ECHOED_KEYS)
    ]
    kind = entry.get("kind")
    if kind not in ApproverKind.values:
        messages.append(f"choose who approves ({', '.join(ApproverKind.values)}), not {kind!r}.")
        return {}, messages
    required = _as_id(entry.get("required", 1))
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
        hours = _as_id(ApprovalStep._meta.get_field(name).default if given in (None, "") else given)
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
        group, error = _related(ApprovalGroup, entry.get("group"), what="approval group")
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
        person, error = _related(User, entry.get("person"), what="person")
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
            _save(template, prefix=f"Task {position}: ", field="tasks")
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
    _refuse({"tasks": errors})
    return prepared


def _task_values(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    messages = [
        f"there is no field {name!r}." for name in _unknown_keys(entry, TASK_FIELDS, ignore=ECHOED_KEYS)
    ]
    values: dict[str, Any] = {
        "name": str(entry.get("name") or "").strip(),
        "instructions": str(entry.get("instructions") or ""),
    }
    if not values["name"]:
        messages.append("give the task a name.")
    team, error = _related(Team, entry.get("team"), what="team")
    if error or team is None:
        messages.append(error or "choose the team that does this task.")
    values["team"] = team
    stage = _as_id(entry.get("stage", 1))
    if stage is None or stage < 1:
        messages.append("the stage must be a whole number of at least 1.")
    values["stage"] = stage
    target = _as_id(entry.get("target_minutes", TaskTemplate._meta.get_field("target_minutes").default))
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
    errors = {
        name: [f"Approval groups have no field {name!r}."] for name in _unknown_keys(data, GROUP_FIELDS)
    }
    members = None
    if "members" in data:
        members, messages = _ids(data["members"], what="people")
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
    _refuse(errors)
    with _restored_on_error(group), transaction.atomic(), acting(actor=actor):
        if not creating:
            _lock(group, expected_version=expected_version)
        for name in ("name", "description"):
            if name in data:
                setattr(group, name, str(data[name] or "").strip())
        _unique_name(group, model=ApprovalGroup, what="approval group")
        _save(group)
        if members is not None:
            before = [] if creating else list(group.members.values_list("pk", flat=True))
            group.members.set(members)
            if not creating or members:
                _audit_relation(group, "members", before, members)
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
            raise _in_use(
                f"{group.name} approves steps of {', '.join(items)}: "
                "change those steps before deleting the group."
            )
        before = list(group.members.values_list("pk", flat=True))
        _audit_relation(group, "members", before, [])
        group.delete()
