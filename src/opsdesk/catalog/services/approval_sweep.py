"""The approval sweep (every few minutes, ``catalog.tasks``): hands approvals to delegates
whose period began (and back to approvers who returned), reminds approvers once at
``remind_at``, then escalates once at ``escalate_at`` by asking the approver's manager too.
Each reminder and escalation is claimed with a compare-and-set, so concurrent sweeps act once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from opsdesk.catalog.choices import ApprovalState, RequestState
from opsdesk.catalog.constants import SWEEP_BATCH
from opsdesk.catalog.models import Approval, ApprovalDelegation, CatalogRequest
from opsdesk.catalog.services.approval_events import count_steps, enqueue_approval_mail, step_summary
from opsdesk.catalog.services.delegations import move_pending
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.services.lifecycle import record_event


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
        total = count_steps(request)
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
                    f"{waited} hours ({step_summary(approval, total)})",
                    "step": approval.step,
                    "state": "escalated",
                },
            )
            enqueue_approval_mail([escalation.pk], "escalation")
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
                f"The approval of {approval.approver} ({step_summary(approval, total)}) has waited "
                f"{waited} hours and cannot be escalated: {why}. Chase the approver or arrange a delegate."
            ),
        )
        enqueue_approval_mail([approval.pk], "unescalated")
        return "unescalated"


def approvals_sweep(*, now: datetime | None = None) -> dict:
    """Hand approvals to delegates whose period began, remind approvers once at ``remind_at``,
    then escalate once at ``escalate_at``. Safe to run concurrently; returns the counts."""
    now = now or timezone.now()
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
            moved = move_pending(waiting_on_away | back, today=today)
            enqueue_approval_mail(moved, "request")
        counts["delegated"] = len(moved)
    due = Approval.objects.filter(state=ApprovalState.PENDING, reminded_at=None, remind_at__lte=now).order_by(
        "remind_at", "pk"
    )[:SWEEP_BATCH]
    for approval in due:
        with transaction.atomic():
            if _claim(approval, "reminded_at", now):
                enqueue_approval_mail([approval.pk], "reminder")
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
