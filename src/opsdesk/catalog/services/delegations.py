"""Delegation while an approver is away: who stands in for whom on a day, handing pending
approvals to the delegate (and back when the period ends), and the delegation records people
arrange themselves (managers for anyone).

A delegate standing in receives the approval in the principal's place, unless they are the
requester or already approve in the same step (one approval per person and step).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.catalog.choices import ApprovalState
from opsdesk.catalog.models import Approval, ApprovalDelegation
from opsdesk.catalog.services.approval_events import enqueue_approval_mail
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import record_create, record_delete, record_update

MAX_REASON_LENGTH = 200


def delegates_on(on: date, approver_ids: Iterable[int] | None = None) -> dict[int, User]:
    """Who stands in for whom on ``on``: {approver id: active delegate}."""
    delegations = ApprovalDelegation.objects.filter(
        starts_on__lte=on, ends_on__gte=on, delegate__is_active=True
    ).select_related("delegate")
    if approver_ids is not None:
        delegations = delegations.filter(approver_id__in=list(approver_ids))
    return {delegation.approver_id: delegation.delegate for delegation in delegations}


def redelegate(approvals: list[Approval], *, on: date, requested_for_id: int) -> list[Approval]:
    """Point each approval at whoever stands in for its principal on ``on`` (or back at the
    principal); returns the approvals whose approver changed (saved by the caller or here)."""
    principals = {approval.delegated_from_id or approval.approver_id for approval in approvals}
    delegates = delegates_on(on, principals)
    taken: dict[tuple[int, int], set[int]] = defaultdict(set)
    for approval in approvals:
        taken[(approval.request_id, approval.step)].add(approval.approver_id)
    if approvals:
        # Approvers of the same steps outside this batch hold their places too.
        for request_id, step, approver_id in Approval.objects.filter(
            request_id__in={a.request_id for a in approvals}
        ).values_list("request_id", "step", "approver_id"):
            taken[(request_id, step)].add(approver_id)
    changed = []
    for approval in approvals:
        principal_id = approval.delegated_from_id or approval.approver_id
        delegate = delegates.get(principal_id)
        place = taken[(approval.request_id, approval.step)]
        if delegate is not None and delegate.pk != requested_for_id and delegate.pk not in place:
            target, delegated_from = delegate.pk, principal_id
        elif delegate is not None and delegate.pk == approval.approver_id:
            continue  # already with the delegate
        else:
            target, delegated_from = principal_id, None
        if target == approval.approver_id and delegated_from == approval.delegated_from_id:
            continue
        if target != approval.approver_id and target in place:
            continue
        place.discard(approval.approver_id)
        place.add(target)
        approval.approver_id, approval.delegated_from_id = target, delegated_from
        changed.append(approval)
    return changed


def move_pending(approver_ids: set[int], *, today: date) -> list[int]:
    """Re-point the pending approvals of ``approver_ids`` at today's delegates (or back);
    returns the ids of approvals that changed hands (their new approver is mailed)."""
    pending = list(
        Approval.objects.filter(state=ApprovalState.PENDING)
        .filter(Q(approver_id__in=approver_ids, delegated_from=None) | Q(delegated_from_id__in=approver_ids))
        .select_related("request")
        .order_by("pk")
    )
    moved = []
    for approval in pending:
        if redelegate([approval], on=today, requested_for_id=approval.request.requested_for_id):
            # Each move is a compare-and-set on the state: a decision that got there first wins.
            updated = Approval.objects.filter(pk=approval.pk, state=ApprovalState.PENDING).update(
                approver_id=approval.approver_id,
                delegated_from_id=approval.delegated_from_id,
                version=approval.version + 1,
                updated_at=timezone.now(),
            )
            if updated:
                moved.append(approval.pk)
    return moved


def _as_date(value: Any, field: str, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.setdefault(field, []).append("Give a date as YYYY-MM-DD.")
        return None


def _as_user(value: Any, field: str, errors: dict[str, list[str]]) -> User | None:
    if isinstance(value, User):
        if not value.is_active:
            errors.setdefault(field, []).append(f"{value} is no longer active; choose an active person.")
            return None
        return value
    try:
        found = User.objects.filter(pk=int(value), is_active=True).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        errors.setdefault(field, []).append("Choose an active person.")
    return found


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        field = next(iter(errors))
        raise ServiceError(errors[field][0], field=field, errors=errors)


def _delegation_conflicts(
    values: dict[str, Any], *, exclude: ApprovalDelegation | None
) -> dict[str, list[str]]:
    """Another delegation of the same approver in the period, or the delegate away and
    handing their own approvals to the approver then."""
    approver, delegate = values["approver"], values["delegate"]
    period = {"starts_on__lte": values["ends_on"], "ends_on__gte": values["starts_on"]}
    others = ApprovalDelegation.objects.filter(approver=approver, **period)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    errors: dict[str, list[str]] = {}
    clash = others.select_related("delegate").order_by("starts_on").first()
    if clash is not None:
        errors["starts_on"] = [
            f"{approver} already has {clash.delegate} standing in from {clash.starts_on} to "
            f"{clash.ends_on}; change that delegation or pick other dates."
        ]
    if ApprovalDelegation.objects.filter(approver=delegate, delegate=approver, **period).exists():
        errors["delegate"] = [
            f"{delegate} is away in that period and has handed their approvals to {approver}."
        ]
    return errors


def delegation_save(
    *,
    actor: User,
    delegation: ApprovalDelegation | None = None,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> ApprovalDelegation:
    """Create or change a delegation: while ``approver`` is away (``starts_on``–``ends_on``),
    ``delegate`` decides their approvals. People arrange their own; managers anyone's. When
    the period covers today, the approver's pending approvals move to the delegate now."""
    errors: dict[str, list[str]] = {}
    current = delegation
    approver_value = data.get("approver", current.approver if current else actor)
    approver = _as_user(approver_value or actor, "approver", errors)
    delegate = _as_user(data.get("delegate", current.delegate if current else None), "delegate", errors)
    starts_on = _as_date(data.get("starts_on", current.starts_on if current else None), "starts_on", errors)
    ends_on = _as_date(data.get("ends_on", current.ends_on if current else None), "ends_on", errors)
    reason = str(data.get("reason", current.reason if current else "") or "").replace("\x00", "").strip()
    today = timezone.localdate()
    if len(reason) > MAX_REASON_LENGTH:
        errors.setdefault("reason", []).append(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    if approver and delegate and approver.pk == delegate.pk:
        errors.setdefault("delegate", []).append("Choose someone else: nobody stands in for themselves.")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors.setdefault("ends_on", []).append("The delegation must end on or after its first day.")
        elif ends_on < today and (current is None or current.ends_on != ends_on):
            errors.setdefault("ends_on", []).append(
                "This period is over already; choose dates from today on."
            )
    if approver and approver.pk != actor.pk and not actor.is_manager:
        raise NotAllowed("You arrange your own stand-in; managers arrange other people's.", field="approver")
    _refuse(errors)
    values = {
        "approver": approver,
        "delegate": delegate,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "reason": reason,
    }
    with transaction.atomic(), acting(actor=actor):
        # Lock both people (in a fixed order): two overlapping delegations saved at once
        # cannot both pass the overlap check.
        list(User.objects.select_for_update().filter(pk__in={approver.pk, delegate.pk}).order_by("pk"))
        _refuse(_delegation_conflicts(values, exclude=current))
        if current is None:
            saved = record_create(model=ApprovalDelegation, actor=actor, data=values)
            affected = {approver.pk}
        else:
            previous_approver = current.approver_id
            saved = record_update(
                instance=current, actor=actor, data=values, expected_version=expected_version
            )
            affected = {previous_approver, approver.pk}
        moved = move_pending(affected, today=today)
        enqueue_approval_mail(moved, "request")
    return saved


def delegation_delete(
    *, actor: User, delegation: ApprovalDelegation, expected_version: int | None = None
) -> None:
    """End a delegation; the approver's pending approvals come back to them."""
    approver_id = delegation.approver_id
    with transaction.atomic(), acting(actor=actor):
        record_delete(instance=delegation, actor=actor, expected_version=expected_version)
        moved = move_pending({approver_id}, today=timezone.localdate())
        enqueue_approval_mail(moved, "request")
