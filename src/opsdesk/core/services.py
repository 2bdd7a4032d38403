"""Writes shared by every app: create, update and delete a record under the actor's
permissions, with optimistic concurrency and the audit trail.

Plain records (a location, a skill) need nothing more; records with rules of their own get
a service in their app that calls these after checking those rules.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction

from opsdesk.core.audit import acting
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed
from opsdesk.core.querysets import permission_filter

M = TypeVar("M", bound=models.Model)


def ensure_allowed(
    *, actor: Any, action: str, instance: models.Model | None = None, model: type[models.Model] | None = None
) -> None:
    """Raise NotAllowed unless ``actor`` may perform ``action`` on ``instance`` (or on ``model``)."""
    model = model or type(instance)
    allowed = permission_filter(actor, action, model)
    if allowed is True:
        return
    if allowed is not False and (
        instance is None
        or instance.pk is None
        or model._default_manager.filter(allowed, pk=instance.pk).exists()
    ):
        return
    raise NotAllowed(f"You may not {action} this {model._meta.verbose_name}.")


def record_create(
    *, model: type[M], actor: Any, data: dict[str, Any], m2m: dict[str, Any] | None = None
) -> M:
    """Create a record of ``model`` from validated ``data`` as ``actor``."""
    ensure_allowed(actor=actor, action="add", model=model)
    with transaction.atomic(), acting(actor=actor):
        instance = model(**data)
        instance.full_clean()
        instance.save()
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
        # Object level: the new row must be one the actor may add (a lead adds to their own team).
        ensure_allowed(actor=actor, action="add", instance=instance)
    return instance


def check_version(*, instance: models.Model, expected_version: int | None) -> None:
    """Refuse the write if the row changed since the editor loaded ``expected_version``.

    Called inside the writing transaction: the row lock (PostgreSQL) or the immediate write
    lock (SQLite) makes the comparison and the write one step.
    """
    if expected_version is None:
        return
    current = (
        type(instance)
        ._default_manager.select_for_update()
        .filter(pk=instance.pk)
        # Not the model's ordering: one across a nullable relation (a category's parent) is an
        # outer join, and PostgreSQL refuses FOR UPDATE on its nullable side.
        .order_by("pk")
        .values_list("version", flat=True)
        .first()
    )
    if current is not None and current != expected_version:
        raise ConcurrencyConflict(
            f"This {instance._meta.verbose_name} was changed by someone else (version {current}, "
            f"you edited version {expected_version}). Reload it and apply your change again.",
            field="version",
        )


def record_update(
    *,
    instance: M,
    actor: Any,
    data: dict[str, Any],
    expected_version: int | None = None,
    m2m: dict[str, Any] | None = None,
) -> M:
    """Apply ``data`` to ``instance`` as ``actor``, refusing a stale ``expected_version``."""
    ensure_allowed(actor=actor, action="change", instance=instance)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=instance, expected_version=expected_version)
        for name, value in data.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
    return instance


def record_delete(*, instance: models.Model, actor: Any, expected_version: int | None = None) -> None:
    ensure_allowed(actor=actor, action="delete", instance=instance)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=instance, expected_version=expected_version)
        instance.delete()
