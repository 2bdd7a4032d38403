"""The approval engine: who approves an order, step by step, and what each decision does.

An item's steps run in ``position`` order. When a step opens, its approvals become PENDING;
later steps' approvals wait. A step is approved once ``required`` of its approvers approve
(the others are skipped and the next step opens); it is rejected as soon as it can no longer
reach ``required``, and the request closes with the reason. Decisions on one request are
serialised on the request's row, so two approvers deciding at once never both "win" a step
or both close it. An approver away for the day has a delegate, who receives the approval in
their place (``delegations``). The sweep reminds approvers who wait too long, then asks their
manager too (``approval_sweep``). Both are re-exported here, where callers know them.

The approval e-mail carries signed one-click links (``approval_link``); the page they lead to
asks for a confirmation before it decides, because mail scanners follow links.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.accounts.services import automation_account
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, RequestState
from opsdesk.catalog.constants import (
    APPROVAL_LINK_MAX_AGE_DAYS,
    DEFAULT_ESCALATE_AFTER_HOURS,
    DEFAULT_REMIND_AFTER_HOURS,
)
from opsdesk.catalog.models import Approval, ApprovalDelegation, ApprovalStep, CatalogItem, CatalogRequest
from opsdesk.catalog.services.approval_events import count_steps, enqueue_approval_mail, step_summary
from opsdesk.catalog.services.approval_sweep import approvals_sweep
from opsdesk.catalog.services.delegations import delegates_on, delegation_delete, delegation_save, redelegate
from opsdesk.catalog.services.fulfilment import catalogue_moves_ticket, fulfilment_start
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.tickets.choices import EventKind, ResolutionCode, Status
from opsdesk.tickets.services import ticket_transition
from opsdesk.tickets.services.lifecycle import record_event

__all__ = [
    "APPROVAL_LINK_SALT",
    "approval_decide",
    "approval_from_token",
    "approval_link",
    "approvals_start",
    "approvals_sweep",
    "approvers_resolve",
    "delegation_delete",
    "delegation_save",
    "request_reject",
]

APPROVAL_LINK_SALT = "opsdesk.catalog.approval-link"
MAX_COMMENT_LENGTH = 5_000
FINAL_TICKET_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
DECIDED_STATES = (ApprovalState.APPROVED, ApprovalState.REJECTED, ApprovalState.SKIPPED)

Approvers = list[list[tuple[User, User | None]]]


# --- who approves -------------------------------------------------------------------------


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
    delegates = delegates_on(on, {person.pk for people in people_per_step for person in people})
    return [
        _with_delegates(people, delegates=delegates, requested_for=requested_for)
        for people in people_per_step
    ]


# --- starting and deciding ----------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _open_step(request: CatalogRequest, step: int, now: datetime) -> list[Approval]:
    """Make a waiting step's approvals pending (with today's delegations) and mail them."""
    approvals = list(
        request.approvals.filter(step=step, state=ApprovalState.WAITING).select_related(
            "approver", "delegated_from"
        )
    )
    redelegate(approvals, on=timezone.localdate(now), requested_for_id=request.requested_for_id)
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
        total = count_steps(request)
        names = ", ".join(str(approval.approver) for approval in approvals)
        first = approvals[0]
        record_event(
            request.ticket,
            EventKind.APPROVAL,
            None,
            data={
                "summary": f"Approval requested from {names} ({step_summary(first, total)}, "
                f"{first.required} of {len(approvals)} needed)",
                "step": step,
                "state": "requested",
            },
        )
    enqueue_approval_mail([approval.pk for approval in approvals], "request")
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
        total = count_steps(request)
        on_behalf = f" for {current.approver}" if actor.pk != current.approver_id else ""
        if current.delegated_from_id and not on_behalf:
            on_behalf = f" for {current.delegated_from}"
        verb = "Approved" if decision == Decision.APPROVE else "Rejected"
        summary = f"{verb} by {actor}{on_behalf} ({step_summary(current, total)})"
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
