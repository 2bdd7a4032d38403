"""Maintaining the catalogue: categories and items (with their form, picture and who may order
them). Each item's approval steps and fulfilment plan, and the approval groups, are maintained
in ``definitions``; they are re-exported here for the callers that know them as ``items.…``.

Every write checks the actor's rights, validates the whole input first and writes in one
transaction, so a refused change leaves nothing half-written. Errors name the field, the step
or the task at fault (``ServiceError.errors``)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Organization, Team, User
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.constants import RESERVED_ITEM_SLUGS
from opsdesk.catalog.models import CatalogCategory, CatalogItem
from opsdesk.catalog.services.definitions import (
    approval_group_delete,
    approval_group_save,
    approval_steps_save,
    task_plan_save,
)
from opsdesk.catalog.services.editing import (
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
from opsdesk.portfolio.models import Offering
from opsdesk.tickets.models import Category

__all__ = [
    "MAX_PICTURE_BYTES",
    "approval_group_delete",
    "approval_group_save",
    "approval_steps_save",
    "category_delete",
    "category_save",
    "item_delete",
    "item_save",
    "task_plan_save",
]

# An item's picture: a real raster image, small enough for the catalogue's cards. SVG is refused
# because it is a document that can carry scripts.
MAX_PICTURE_BYTES = 2 * 1024 * 1024
PICTURE_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}
# Browsers decode the picture on every card: no poster-sized images.
MAX_PICTURE_SIDE = 4000
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")

# What a caller may set: the model's editable fields (not the version, not the timestamps).
ITEM_FIELDS = editable_fields(CatalogItem)
ITEM_RELATIONS = {
    "offering": Offering,
    "category": CatalogCategory,
    "ticket_category": Category,
    "fulfilment_team": Team,
}
CATEGORY_FIELDS = editable_fields(CatalogCategory)


def _sentence(fragment: str) -> str:
    return fragment[:1].upper() + fragment[1:]


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
    unknown = unknown_keys(data, CATEGORY_FIELDS)
    refuse({name: [f"Categories have no field {name!r}."] for name in unknown}, code="unknown_field")
    with restored_on_error(category), transaction.atomic(), acting(actor=actor):
        if category.pk:
            lock_version(category, expected_version=expected_version)
        for name, value in data.items():
            setattr(category, name, value)
        category.slug = _slug_for(category, model=CatalogCategory, what="category")
        unique_name(category, model=CatalogCategory, what="category")
        save_checked(category)
    return category


def category_delete(*, actor: User, category: CatalogCategory, expected_version: int | None = None) -> None:
    """Delete an empty category; one that still holds items is refused (move them first)."""
    ensure_allowed(actor=actor, action="delete", instance=category)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=category, expected_version=expected_version)
        count = category.items.count()
        if count:
            raise in_use(
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
    with restored_on_error(item), transaction.atomic(), acting(actor=actor):
        if not creating:
            lock_version(item, expected_version=expected_version)
        for name, value in values.items():
            setattr(item, name, value)
        item.slug = _slug_for(item, model=CatalogItem, what="item")
        if not creating and "offering" in values:
            _check_owner_still_approves(item)
        try:
            # A savepoint: a slug taken by a concurrent save is a clear error, not a broken transaction.
            with transaction.atomic():
                save_checked(item)
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
                audit_relation(item, "organizations", before, organizations)
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
    for name in unknown_keys(data, ITEM_FIELDS):
        errors[name] = [f"Catalogue items have no field {name!r}."]
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in ITEM_FIELDS or name == "organizations":
            continue
        if name in ITEM_RELATIONS:
            related, error = related_row(ITEM_RELATIONS[name], value, what=name.replace("_", " "))
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
        organizations, messages = ids_from(data["organizations"], what="organisation")
        missing = sorted(
            set(organizations)
            - set(Organization.objects.filter(pk__in=organizations).values_list("pk", flat=True))
        )
        if missing:
            messages.append(f"There is no organisation with id {', '.join(map(str, missing))}.")
        if messages:
            errors["organizations"] = messages
    refuse(errors)
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
            raise in_use(
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
