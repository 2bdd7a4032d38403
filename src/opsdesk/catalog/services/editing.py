"""What the catalogue's maintenance services share (``items`` and ``definitions``): which
fields a caller may set, reading ids and rows from input, refusing with every error by field,
locking a row at the version the caller read, and leaving a refused instance as stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from opsdesk.core.exceptions import ServiceError
from opsdesk.core.models import AuditEntry, AuditOperation
from opsdesk.core.services import check_version

# Keys a client may echo back from what it read; they do not describe the new list.
ECHOED_KEYS = frozenset({"id", "pk", "item", "version", "created_at", "updated_at"})


def editable_fields(model: type[models.Model]) -> frozenset[str]:
    """The fields of ``model`` a caller may set (not the version, not the timestamps)."""
    return frozenset(
        field.name
        for field in model._meta.get_fields()
        if not field.auto_created and getattr(field, "editable", False)
    )


def refuse(errors: dict[str, list[str]], *, code: str = "invalid") -> None:
    """Raise one ServiceError carrying every message by field, if there is any."""
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


def unknown_keys(
    data: dict[str, Any], allowed: frozenset[str], *, ignore: frozenset[str] = frozenset()
) -> list[str]:
    """The keys of ``data`` that are neither ``allowed`` nor ``ignore``d, sorted."""
    return sorted(str(key) for key in data if key not in allowed and key not in ignore)


def as_id(value: Any) -> int | None:
    """An id from a row, an int or a string of digits; None for anything else (booleans too)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def related_row(
    model: type[models.Model], value: Any, *, what: str
) -> tuple[models.Model | None, str | None]:
    """(the row ``value`` names, or an error message). ``value`` is a row, an id or empty."""
    if value in (None, ""):
        return None, None
    if isinstance(value, model):
        return value, None
    pk = as_id(value)
    found = model._default_manager.filter(pk=pk).first() if pk is not None else None
    if found is None:
        return None, f"there is no {what} with id {value!r}."
    return found, None


def ids_from(values: Any, *, what: str) -> tuple[list[int], list[str]]:
    """Ids from a list of ids or rows (or a queryset); malformed entries become messages."""
    if values in (None, ""):
        return [], []
    if isinstance(values, str | bytes | dict) or not isinstance(values, Iterable):
        return [], [f"Give the {what} as a list of ids."]
    ids, bad = [], []
    for value in values:
        pk = as_id(value)
        if pk is None:
            bad.append(repr(value))
        elif pk not in ids:
            ids.append(pk)
    return ids, ([f"These are not {what} ids: {', '.join(bad)}."] if bad else [])


def audit_relation(instance: models.Model, name: str, before: list[int], after: list[int]) -> None:
    """Many-to-many changes bypass save(); the trail still shows who changed the list."""
    if sorted(before) != sorted(after):
        AuditEntry.record(instance, AuditOperation.UPDATE, {name: [sorted(before), sorted(after)]})


def in_use(message: str) -> ServiceError:
    """The refusal to delete something that is still in use."""
    return ServiceError(message, code="in_use")


def save_checked(instance: models.Model, *, prefix: str = "", field: str | None = None) -> None:
    """Save after the model's own validation; its refusal becomes a ServiceError by field."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise _as_service_error(exc, prefix=prefix, field=field) from None
    instance.save()


def lock_version(instance: models.Model, *, expected_version: int | None) -> None:
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
def restored_on_error(instance: models.Model) -> Iterator[None]:
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


def unique_name(instance: models.Model, *, model: type[models.Model], what: str) -> None:
    """Refuse a name another row already has, ignoring case."""
    name = getattr(instance, "name", "")
    if name and model._default_manager.filter(name__iexact=name).exclude(pk=instance.pk).exists():
        raise ServiceError(f"Another {what} is already called {name!r}.", code="name_taken", field="name")
