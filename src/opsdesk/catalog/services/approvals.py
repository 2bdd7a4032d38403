"""The approval engine: who approves an order, step by step, and what each decision does.

An item's steps run in ``position`` order. When a step opens, its approvals become PENDING;
later steps' approvals wait. A step is approved once ``required`` of its approvers approve
(the others are skipped and the next step opens); it is rejected as soon as it can no longer
reach ``required``, and the request closes with the reason. Decisions on one request are
serialised on the request's row, so two approvers deciding at once never both "win" a step
or both close it. An approver away for the day has a delegate, who receives the approval in
their place. The sweep reminds approvers who wait too long, then asks their manager too.

The approval e-mail carries signed one-click links (``approval_link``); the page they lead to
asks for a confirmation before it decides, because mail scanners follow links.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.accounts.services import automation_account
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, RequestState
from opsdesk.catalog.constants import (
    APPROVAL_LINK_MAX_AGE_DAYS,
    DEFAULT_ESCALATE_AFTER_HOURS,
    DEFAULT_REMIND_AFTER_HOURS,
    SWEEP_BATCH,
)
from opsdesk.catalog.models import Approval, ApprovalDelegation, ApprovalStep, CatalogItem, CatalogRequest
from opsdesk.catalog.services.fulfilment import catalogue_moves_ticket, fulfilment_start
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import check_version, ensure_allowed, record_create, record_delete, record_update
from opsdesk.tickets.choices import EventKind, ResolutionCode, Status
from opsdesk.tickets.services import ticket_transition
from opsdesk.tickets.services.lifecycle import record_event

APPROVAL_LINK_SALT = "opsdesk.catalog.approval-link"
MAX_COMMENT_LENGTH = 5_000
MAX_REASON_LENGTH = 200
FINAL_TICKET_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
DECIDED_STATES = (ApprovalState.APPROVED, ApprovalState.REJECTED, ApprovalState.SKIPPED)

Approvers = list[list[tuple[User, User | None]]]


# --- who approves -------------------------------------------------------------------------


def _delegates_on(on: date, approver_ids: Iterable[int] | None = None) -> dict[int, User]:
    """Who stands in for whom on ``on``: {approver id: active delegate}."""
    delegations = ApprovalDelegation.objects.filter(
        starts_on__lte=on, ends_on__gte=on, delegate__is_active=True
    ).select_related("delegate")
    if approver_ids is not None:
        delegations = delegations.filter(approver_id__in=list(approver_ids))
    return {delegation.approver_id: delegation.delegate for delegation in delegations}


def _step_label(step: ApprovalStep) -> str:
    return step.name or step.get_kind_display()


def _step_approvers(step: ApprovalStep, item: CatalogItem, requested_for: User) -> list[User]:
    """The people a step asks, before delegation; ServiceError when nobody suitable exists."""
    label = _step_label(step)
    if step.kind == ApproverKind.MANAGER:
        manager = requested_for.manager
        if manager is None or not manager.is_active:
            raise ServiceError(
                f"This item needs your manager's approval, and no manager is recorded for {requested_for}. "
                "Ask the service desk to record one.",
                code="approver_missing",
                field="requested_for",
            )
        people = [manager]
    elif step.kind == ApproverKind.SERVICE_OWNER:
        owner = item.offering.service.owner
        if owner is None or not owner.is_active:
            raise ServiceError(
                f"This item needs the approval of the owner of {item.offering.service}, and the service has "
                "no active owner. Ask the service desk to record one.",
                code="approver_missing",
            )
        people = [owner]
    elif step.kind == ApproverKind.PERSON:
        if step.person is None or not step.person.is_active:
            raise ServiceError(
                f"The approver of step {step.position} ({label}) is no longer active; the catalogue "
                "managers must name another.",
                code="approver_missing",
            )
        people = [step.person]
    else:
        if step.group is None:
            raise ServiceError(
                f"Step {step.position} ({label}) has no approval group.", code="approver_missing"
            )
        people = [member for member in step.group.members.all() if member.is_active]
    # Nobody approves their own request.
    people = [person for person in people if person.pk != requested_for.pk]
    if not people:
        raise ServiceError(
            f"Nobody but {requested_for} could approve step {step.position} ({label}), and nobody "
            "approves their own request. Ask the service desk to arrange another approver.",
            code="approver_missing",
            field="requested_for",
        )
    if len(people) < step.required:
        raise ServiceError(
            f"Step {step.position} ({label}) needs {step.required} approvals, but only {len(people)} "
            f"{'person is' if len(people) == 1 else 'people are'} there to give them for {requested_for}.",
            code="approver_missing",
        )
    return people


def _with_delegates(
    people: list[User], *, delegates: dict[int, User], requested_for: User
) -> list[tuple[User, User | None]]:
    """Hand each person's approval to their delegate, unless the delegate is the requester or
    already approves in the same step (one approval per person and step)."""
    taken = {person.pk for person in people}
    result: list[tuple[User, User | None]] = []
    for person in people:
        delegate = delegates.get(person.pk)
        if delegate is not None and delegate.pk != requested_for.pk and delegate.pk not in taken:
            taken.add(delegate.pk)
            result.append((delegate, person))
        else:
            result.append((person, None))
    return result


def approvers_resolve(*, item: CatalogItem, requested_for: User, on: date) -> Approvers:
    """Per approval step of ``item`` (in order), the ``(approver, delegated_from)`` pairs asked
    when ``requested_for`` orders it on ``on``. Raises ServiceError when a step cannot be
    staffed, so an order is refused before anything is written."""
    steps = list(
        ApprovalStep.objects.filter(item=item)
        .select_related("group", "person", "item__offering__service__owner")
        .prefetch_related("group__members")
        .order_by("position")
    )
    people_per_step = [_step_approvers(step, item, requested_for) for step in steps]
    delegates = _delegates_on(on, {person.pk for people in people_per_step for person in people})
    return [
        _with_delegates(people, delegates=delegates, requested_for=requested_for)
        for people in people_per_step
    ]


# --- starting and deciding ----------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _summary(approval: Approval, total_steps: int) -> str:
    return f"step {approval.step} of {total_steps}: {approval.step_name}"


def _total_steps(request: CatalogRequest) -> int:
    return len(set(request.approvals.values_list("step", flat=True)))


def _enqueue_mail(approval_ids: list[int], kind: str) -> None:
    if not approval_ids:
        return
    # Imported here: the mail module builds on this one (links). With the database task
    # backend the job row is written in this transaction, so a rolled-back change mails nobody.
    from opsdesk.catalog.notifications import send_approval_mail

    send_approval_mail.enqueue(approval_ids=approval_ids, kind=kind)


def _open_step(request: CatalogRequest, step: int, now: datetime) -> list[Approval]:
    """Make a waiting step's approvals pending (with today's delegations) and mail them."""
    approvals = list(
        request.approvals.filter(step=step, state=ApprovalState.WAITING).select_related(
            "approver", "delegated_from"
        )
    )
    _redelegate(approvals, on=timezone.localdate(now), requested_for_id=request.requested_for_id)
    steps = {s.position: s for s in request.item.approval_steps.all()}
    definition = steps.get(step)
    # The item's steps may have been redefined since the order: keep the default timings then.
    remind_hours = definition.remind_after_hours if definition else DEFAULT_REMIND_AFTER_HOURS
    escalate_hours = definition.escalate_after_hours if definition else DEFAULT_ESCALATE_AFTER_HOURS
    for approval in approvals:
        approval.state = ApprovalState.PENDING
        approval.requested_at = now
        approval.remind_at = now + timedelta(hours=remind_hours) if remind_hours else None
        approval.escalate_at = now + timedelta(hours=escalate_hours) if escalate_hours else None
        approval.save()
    if approvals:
        total = _total_steps(request)
        names = ", ".join(str(approval.approver) for approval in approvals)
        first = approvals[0]
        record_event(
            request.ticket,
            EventKind.APPROVAL,
            None,
            data={
                "summary": f"Approval requested from {names} ({_summary(first, total)}, "
                f"{first.required} of {len(approvals)} needed)",
                "step": step,
                "state": "requested",
            },
        )
    _enqueue_mail([approval.pk for approval in approvals], "request")
    return approvals


def approvals_start(*, request: CatalogRequest, now: datetime | None = None) -> list[Approval]:
    """Create the request's approvals (one per approver and step) and open the first step.
    An item without approval steps goes straight to fulfilment."""
    now = _now(now)
    item = request.item
    with transaction.atomic():
        if request.approvals.exists():
            raise ServiceError("This request's approvals have already started.", code="already_started")
        plan = approvers_resolve(item=item, requested_for=request.requested_for, on=timezone.localdate(now))
        steps = list(ApprovalStep.objects.filter(item=item).order_by("position"))
        if not steps:
            _approved(request, now)
            return []
        rows = [
            Approval(
                request=request,
                step=step.position,
                step_name=_step_label(step)[: Approval._meta.get_field("step_name").max_length],
                # Kept as ordered: the figures group waits by them, whatever the item's steps become.
                step_kind=step.kind,
                step_group_id=step.group_id,
                required=step.required,
                approver=approver,
                delegated_from=delegated_from,
                state=ApprovalState.WAITING,
            )
            for step, pairs in zip(steps, plan, strict=True)
            for approver, delegated_from in pairs
        ]
        for row in rows:
            row.save()
        if request.state != RequestState.AWAITING_APPROVAL:
            request.state = RequestState.AWAITING_APPROVAL
            request.save()
        _open_step(request, steps[0].position, now)
    return rows


def _approved(request: CatalogRequest, now: datetime) -> None:
    request.approved_at = now
    request.save()
    fulfilment_start(request=request, now=now)


def _slot(approval: Approval) -> int:
    # An escalation asks the approver's manager in the approver's place: one vote between them.
    return approval.escalated_from_id or approval.pk


def _may_decide(actor: User, approval: Approval, today: date) -> bool:
    if actor.pk == approval.approver_id:
        return True
    # A delegate standing in today decides even before the sweep hands the approval over.
    return ApprovalDelegation.objects.filter(
        approver_id=approval.approver_id, delegate=actor, starts_on__lte=today, ends_on__gte=today
    ).exists()


def _already_decided(approval: Approval) -> ServiceError:
    if approval.state in (ApprovalState.APPROVED, ApprovalState.REJECTED):
        when = (
            timezone.localtime(approval.decided_at).strftime("%Y-%m-%d %H:%M") if approval.decided_at else ""
        )
        verb = "approved" if approval.state == ApprovalState.APPROVED else "rejected"
        return ServiceError(
            f"This approval was already {verb} by {approval.decided_by or approval.approver} on {when}.",
            code="already_decided",
        )
    if approval.state == ApprovalState.SKIPPED:
        return ServiceError(
            "This approval is no longer needed: the step or the request was decided already.",
            code="already_decided",
        )
    return ServiceError("This approval's step has not opened yet.", code="not_open")


def approval_decide(
    *,
    actor: User,
    approval: Approval,
    decision: str,
    comment: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Approval:
    """Approve or reject one approval as its approver (or their delegate standing in today).

    The step then completes (next step or fulfilment), fails (the request is rejected with the
    reason) or waits for more decisions. Serialised per request; a decided approval refuses a
    second decision with ``already_decided``."""
    now = _now(now)
    if actor.is_read_only:
        raise NotAllowed("Auditors read; they do not decide approvals.")
    if decision not in Decision.values:
        raise ServiceError("Decide with approve or reject.", code="invalid", field="decision")
    comment = str(comment or "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ServiceError(f"Keep the comment under {MAX_COMMENT_LENGTH} characters.", field="comment")
    with transaction.atomic(), acting(actor=actor):
        request = (
            CatalogRequest.objects.select_for_update(of=("self",))
            .select_related("ticket", "item", "requested_for")
            .order_by("pk")
            .get(pk=approval.request_id)
        )
        current = (
            Approval.objects.select_for_update(of=("self",))
            .select_related("approver", "delegated_from", "decided_by")
            .order_by("pk")
            .get(pk=approval.pk)
        )
        if current.state != ApprovalState.PENDING:
            raise _already_decided(current)
        if request.state != RequestState.AWAITING_APPROVAL:
            raise ServiceError(
                f"This request is {request.get_state_display().lower()}; it needs no more decisions.",
                code="already_decided",
            )
        if not _may_decide(actor, current, timezone.localdate(now)):
            if current.delegated_from_id == actor.pk:
                raise NotAllowed(
                    f"{current.approver} decides this approval while you are away (delegation).",
                    code="delegated",
                )
            raise NotAllowed("Only the approver (or their delegate) may decide this approval.")
        check_version(instance=current, expected_version=expected_version)
        current.state = ApprovalState.APPROVED if decision == Decision.APPROVE else ApprovalState.REJECTED
        current.decided_at, current.decided_by, current.comment = now, actor, comment
        current.save()
        total = _total_steps(request)
        on_behalf = f" for {current.approver}" if actor.pk != current.approver_id else ""
        if current.delegated_from_id and not on_behalf:
            on_behalf = f" for {current.delegated_from}"
        verb = "Approved" if decision == Decision.APPROVE else "Rejected"
        summary = f"{verb} by {actor}{on_behalf} ({_summary(current, total)})"
        record_event(
            request.ticket,
            EventKind.APPROVAL,
            actor,
            body=comment,
            data={"summary": summary, "step": current.step, "state": current.state},
        )
        _settle_step(request, current, now=now, total=total)
    approval.refresh_from_db()
    return approval


def _settle_step(request: CatalogRequest, decided: Approval, *, now: datetime, total: int) -> None:
    rows = list(request.approvals.filter(step=decided.step).select_related("approver").order_by("pk"))
    slot = _slot(decided)
    # The other half of an escalated pair is answered by this decision.
    for row in rows:
        if row.pk != decided.pk and _slot(row) == slot and row.state == ApprovalState.PENDING:
            row.state = ApprovalState.SKIPPED
            row.save()
    approved = {_slot(row) for row in rows if row.state == ApprovalState.APPROVED}
    pending = {_slot(row) for row in rows if row.state == ApprovalState.PENDING}
    required = decided.required
    if len(approved) >= required:
        for row in rows:
            if row.state == ApprovalState.PENDING:
                row.state = ApprovalState.SKIPPED
                row.save()
        later = (
            request.approvals.filter(step__gt=decided.step, state=ApprovalState.WAITING)
            .order_by("step")
            .values_list("step", flat=True)
            .first()
        )
        if later is not None:
            _open_step(request, later, now)
        else:
            record_event(
                request.ticket,
                EventKind.APPROVAL,
                None,
                data={"summary": "All approvals are in: fulfilment starts", "state": "approved"},
            )
            _approved(request, now)
    elif len(approved) + len(pending) < required:
        reason = (
            f"Rejected by {decided.decided_by} at step {decided.step} of {total} ({decided.step_name})"
            + (f": {decided.comment}" if decided.comment else ".")
        )
        _reject(request, reason=reason, now=now)


def _reject(request: CatalogRequest, *, reason: str, now: datetime) -> None:
    """Close a request as rejected: skip what is left, resolve then close its ticket."""
    request.state = RequestState.REJECTED
    request.closed_reason = reason
    request.save()
    request.approvals.filter(state__in=(ApprovalState.WAITING, ApprovalState.PENDING)).update(
        state=ApprovalState.SKIPPED, updated_at=now, version=F("version") + 1
    )
    ticket = request.ticket
    ticket.refresh_from_db()
    if ticket.status in FINAL_TICKET_STATUSES:
        return
    robot = automation_account()
    with acting(actor=robot), catalogue_moves_ticket():
        ticket_transition(
            actor=robot,
            ticket=ticket,
            to=Status.RESOLVED,
            resolution_code=ResolutionCode.REJECTED,
            resolution_notes=reason,
        )
        ticket_transition(actor=robot, ticket=ticket, to=Status.CLOSED)


def request_reject(*, request: CatalogRequest, actor: User, reason: str) -> CatalogRequest:
    """Reject a request still awaiting approval (the desk stopping it): it closes with ``reason``."""
    ensure_allowed(actor=actor, action="change", instance=request)
    reason = str(reason or "").replace("\x00", "").strip()
    if not reason:
        raise ServiceError("Say why the request is rejected; the requester reads it.", field="reason")
    if len(reason) > MAX_COMMENT_LENGTH:
        raise ServiceError(f"Keep the reason under {MAX_COMMENT_LENGTH} characters.", field="reason")
    now = timezone.now()
    with transaction.atomic(), acting(actor=actor):
        locked = CatalogRequest.objects.select_for_update(of=("self",)).order_by("pk").get(pk=request.pk)
        if locked.state != RequestState.AWAITING_APPROVAL:
            raise ServiceError(
                f"Only a request awaiting approval can be rejected; this one is "
                f"{locked.get_state_display().lower()}.",
                code="request_final",
            )
        record_event(
            locked.ticket,
            EventKind.APPROVAL,
            actor,
            body=reason,
            data={"summary": f"Rejected by {actor}", "state": ApprovalState.REJECTED},
        )
        _reject(locked, reason=reason, now=now)
    request.refresh_from_db()
    return request


# --- signed links -------------------------------------------------------------------------


def approval_link(*, approval: Approval, decision: str) -> str:
    """The absolute URL of a one-click link deciding ``approval`` as its current approver."""
    if decision not in Decision.values:
        raise ServiceError("Decide with approve or reject.", field="decision")
    token = signing.dumps(
        {"a": approval.pk, "d": decision, "u": approval.approver_id}, salt=APPROVAL_LINK_SALT, compress=True
    )
    return settings.SITE_URL.rstrip("/") + reverse("catalog:approval_link", args=[token])


def approval_from_token(token: str) -> tuple[Approval, str]:
    """The approval and decision a link names; ServiceError ``link_invalid`` (forged, or no
    longer the recipient's to decide), ``link_expired`` or ``already_decided``."""
    try:
        payload = signing.loads(
            str(token), salt=APPROVAL_LINK_SALT, max_age=timedelta(days=APPROVAL_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired:
        raise ServiceError(
            f"This approval link has expired (links work for {APPROVAL_LINK_MAX_AGE_DAYS} days). "
            "Open the approval from your approvals inbox instead.",
            code="link_expired",
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise ServiceError("This approval link is not valid.", code="link_invalid") from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("a"), int)
        or not isinstance(payload.get("u"), int)
        or payload.get("d") not in Decision.values
    ):
        raise ServiceError("This approval link is not valid.", code="link_invalid")
    approval = (
        Approval.objects.select_related(
            "request__ticket",
            "request__item",
            "request__requested_for",
            "approver",
            "delegated_from",
            "decided_by",
        )
        .filter(pk=payload["a"])
        .first()
    )
    if approval is None:
        raise ServiceError("This approval no longer exists.", code="link_invalid")
    if approval.state in DECIDED_STATES:
        raise _already_decided(approval)
    if approval.approver_id != payload["u"]:
        if approval.delegated_from_id == payload["u"]:
            message = (
                f"This approval was handed to {approval.approver} while you are away; "
                "they decide it now, so this link no longer works."
            )
        else:
            message = f"This approval is now {approval.approver}'s to decide; this link no longer works."
        raise ServiceError(message, code="link_invalid")
    if approval.state != ApprovalState.PENDING:
        raise _already_decided(approval)
    return approval, payload["d"]


# --- delegation ---------------------------------------------------------------------------


def _redelegate(approvals: list[Approval], *, on: date, requested_for_id: int) -> list[Approval]:
    """Point each approval at whoever stands in for its principal on ``on`` (or back at the
    principal); returns the approvals whose approver changed (saved by the caller or here)."""
    principals = {approval.delegated_from_id or approval.approver_id for approval in approvals}
    delegates = _delegates_on(on, principals)
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


def _move_pending(approver_ids: set[int], *, today: date) -> list[int]:
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
        if _redelegate([approval], on=today, requested_for_id=approval.request.requested_for_id):
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
        moved = _move_pending(affected, today=today)
        _enqueue_mail(moved, "request")
    return saved


def delegation_delete(
    *, actor: User, delegation: ApprovalDelegation, expected_version: int | None = None
) -> None:
    """End a delegation; the approver's pending approvals come back to them."""
    approver_id = delegation.approver_id
    with transaction.atomic(), acting(actor=actor):
        record_delete(instance=delegation, actor=actor, expected_version=expected_version)
        moved = _move_pending({approver_id}, today=timezone.localdate())
        _enqueue_mail(moved, "request")


# --- the sweep ----------------------------------------------------------------------------


def _claim(approval: Approval, field: str, now: datetime) -> bool:
    # Compare-and-set: of two sweeps running at once, exactly one sets the mark and acts.
    return bool(
        Approval.objects.filter(pk=approval.pk, state=ApprovalState.PENDING, **{field: None}).update(
            **{field: now}
        )
    )


def _escalate(approval: Approval, now: datetime) -> str:
    """Ask the waiting approver's manager too (once); returns what happened."""
    with transaction.atomic():
        request = (
            CatalogRequest.objects.select_for_update(of=("self",))
            .select_related("ticket", "item__fulfilment_team__lead")
            .order_by("pk")
            .get(pk=approval.request_id)
        )
        if request.state != RequestState.AWAITING_APPROVAL or not _claim(approval, "escalated_at", now):
            return "skipped"
        manager = approval.approver.manager
        total = _total_steps(request)
        in_step = set(request.approvals.filter(step=approval.step).values_list("approver_id", flat=True))
        waited = round((now - approval.requested_at).total_seconds() / 3600) if approval.requested_at else 0
        if (
            manager is not None
            and manager.is_active
            and manager.pk != request.requested_for_id
            and manager.pk not in in_step
        ):
            remind = (
                approval.remind_at - approval.requested_at
                if approval.remind_at and approval.requested_at
                else None
            )
            escalation = Approval.objects.create(
                request=request,
                step=approval.step,
                step_name=approval.step_name,
                step_kind=approval.step_kind,
                step_group_id=approval.step_group_id,
                required=approval.required,
                approver=manager,
                escalated_from=approval,
                state=ApprovalState.PENDING,
                requested_at=now,
                remind_at=now + remind if remind else None,
            )
            record_event(
                request.ticket,
                EventKind.APPROVAL,
                None,
                data={
                    "summary": f"Escalated to {manager}: {approval.approver} has not answered for "
                    f"{waited} hours ({_summary(approval, total)})",
                    "step": approval.step,
                    "state": "escalated",
                },
            )
            _enqueue_mail([escalation.pk], "escalation")
            return "escalated"
        if manager is None or not manager.is_active:
            why = f"{approval.approver} has no manager on record"
        elif manager.pk == request.requested_for_id:
            why = f"{approval.approver}'s manager is the requester"
        else:
            why = f"{approval.approver}'s manager, {manager}, is already asked in this step"
        record_event(
            request.ticket,
            EventKind.INTERNAL_NOTE,
            None,
            body=(
                f"The approval of {approval.approver} ({_summary(approval, total)}) has waited "
                f"{waited} hours and cannot be escalated: {why}. Chase the approver or arrange a delegate."
            ),
        )
        _enqueue_mail([approval.pk], "unescalated")
        return "unescalated"


def approvals_sweep(*, now: datetime | None = None) -> dict:
    """Hand approvals to delegates whose period began, remind approvers once at ``remind_at``,
    then escalate once at ``escalate_at``. Safe to run concurrently; returns the counts."""
    now = _now(now)
    today = timezone.localdate(now)
    counts = {"delegated": 0, "reminded": 0, "escalated": 0, "unescalated": 0}
    away = set(
        ApprovalDelegation.objects.filter(starts_on__lte=today, ends_on__gte=today).values_list(
            "approver_id", flat=True
        )
    )
    waiting_on_away = set(
        Approval.objects.filter(
            state=ApprovalState.PENDING, delegated_from=None, approver_id__in=away
        ).values_list("approver_id", flat=True)
    )
    back = set(
        Approval.objects.filter(state=ApprovalState.PENDING, delegated_from__isnull=False)
        .exclude(delegated_from_id__in=away)
        .values_list("delegated_from_id", flat=True)
    )
    if waiting_on_away or back:
        with transaction.atomic():
            moved = _move_pending(waiting_on_away | back, today=today)
            _enqueue_mail(moved, "request")
        counts["delegated"] = len(moved)
    due = Approval.objects.filter(state=ApprovalState.PENDING, reminded_at=None, remind_at__lte=now).order_by(
        "remind_at", "pk"
    )[:SWEEP_BATCH]
    for approval in due:
        with transaction.atomic():
            if _claim(approval, "reminded_at", now):
                _enqueue_mail([approval.pk], "reminder")
                counts["reminded"] += 1
    due = (
        Approval.objects.filter(state=ApprovalState.PENDING, escalated_at=None, escalate_at__lte=now)
        .select_related("approver__manager")
        .order_by("escalate_at", "pk")[:SWEEP_BATCH]
    )
    for approval in due:
        outcome = _escalate(approval, now)
        if outcome in counts:
            counts[outcome] += 1
    return counts
