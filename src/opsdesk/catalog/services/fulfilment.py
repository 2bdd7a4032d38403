"""Fulfilment: an approved order's plan of team tasks, worked stage by stage.

The tasks of one stage run in parallel; when the last of a stage is finished the next stage's
tasks open, each due ``target_minutes`` business minutes later on the service's hours; when
every task is finished the request's ticket resolves as fulfilled, which asks the requester to
rate it. Every move is serialised per request (a lock on its ``CatalogRequest`` row), so two
agents finishing the last two parallel tasks at once open the next stage exactly once.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import TeamMembership, User
from opsdesk.accounts.services import automation_account
from opsdesk.catalog.choices import (
    FINISHED_TASK_STATES,
    OPEN_TASK_STATES,
    ApprovalState,
    RequestState,
    TaskState,
)
from opsdesk.catalog.models import CatalogRequest, RequestTask
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.portfolio.business_time import BusinessTimeError, add_business_minutes, schedule_for
from opsdesk.tickets.choices import OPEN_STATUSES, EventKind, ResolutionCode, Status
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_assign, ticket_transition
from opsdesk.tickets.services.lifecycle import next_number, record_event

TASK_NUMBER_PREFIX = "TASK"
# The desk's number sequences are keyed by three letters (``NumberSequence.prefix``): tasks
# count on "TSK" and show as TASK0001001.
TASK_SEQUENCE = "TSK"
MAX_NOTE_LENGTH = 10_000

# Set while the catalogue's own services move a request's ticket, so that the receiver that
# keeps requests consistent with tickets moved directly by agents (receivers.py) stays out.
_catalogue_moving: contextvars.ContextVar[bool] = contextvars.ContextVar("catalogue_moving", default=False)


@contextmanager
def catalogue_moves_ticket() -> Iterator[None]:
    """Mark ticket moves made inside the block as the catalogue's own (see receivers.py)."""
    token = _catalogue_moving.set(True)
    try:
        yield
    finally:
        _catalogue_moving.reset(token)


def catalogue_is_moving() -> bool:
    return _catalogue_moving.get()


def task_number() -> str:
    """The next fulfilment task number (TASK0001001). Call inside the creating transaction."""
    return TASK_NUMBER_PREFIX + next_number(TASK_SEQUENCE)[len(TASK_SEQUENCE) :]


# --- time ------------------------------------------------------------------------------------
def due_after(*, calendar, start: datetime, minutes: int) -> datetime:
    """``minutes`` business minutes after ``start`` on ``calendar`` (wall clock without one, or
    when the calendar has no working time at all)."""
    if calendar is not None:
        try:
            return add_business_minutes(schedule_for(calendar), start, minutes)
        except BusinessTimeError:
            pass
    return start + timedelta(minutes=minutes)


def _service_hours(request: CatalogRequest):
    return request.item.offering.service.service_hours


# --- helpers -----------------------------------------------------------------------------------
def _lock(request: CatalogRequest) -> CatalogRequest:
    """Re-read the request under a row lock (serialises every decision and task move on it)."""
    return (
        CatalogRequest.objects.select_for_update(of=("self",))
        .select_related("ticket", "item__offering__service__service_hours", "item__fulfilment_team")
        .order_by("pk")
        .get(pk=request.pk)
    )


def _is_member(user: User, team_id: int) -> bool:
    return TeamMembership.objects.filter(team_id=team_id, user_id=user.pk).exists()


def _check_worker(actor: User, task: RequestTask, verb: str) -> None:
    """Tasks are worked by their team's members (and the team's lead, and managers)."""
    ensure_allowed(actor=actor, action="change", instance=task)
    if actor.is_read_only or not actor.is_agent:
        raise NotAllowed(f"Only support staff {verb} fulfilment tasks.")
    if actor.is_manager or actor.pk == task.team.lead_id or _is_member(actor, task.team_id):
        return
    raise NotAllowed(
        f"Only members of {task.team.name} {verb} {task.number}; ask the team to take it.", code="not_in_team"
    )


def _user_name(user: User | None) -> str:
    return str(user) if user is not None else "OpsDesk"


def _timeline(ticket: Ticket, actor: User | None, summary: str, *, body: str = "", **data) -> None:
    record_event(ticket, EventKind.TASK, actor, body=body, data={"summary": summary, **data})


def _open_stage(*, request: CatalogRequest, stage: int, now: datetime) -> list[RequestTask]:
    calendar = _service_hours(request)
    opened = []
    for task in request.tasks.filter(stage=stage, state=TaskState.WAITING).order_by("pk"):
        task.state, task.opened_at = TaskState.OPEN, now
        task.due_at = due_after(calendar=calendar, start=now, minutes=task.target_minutes)
        task.save()
        opened.append(task)
    return opened


def _stage_summary(stage: int, tasks: list[RequestTask]) -> str:
    listed = ", ".join(f"{task.name} ({task.team.name})" for task in tasks)
    return f"Stage {stage} opened: {listed}"


def _ticket_actor(actor: User | None) -> User:
    """Who moves the ticket: the acting agent when they may, else the automation account."""
    if actor is not None and actor.is_agent and not actor.is_read_only:
        return actor
    return automation_account()


# --- starting ----------------------------------------------------------------------------------
def fulfilment_start(
    *, request: CatalogRequest, actor: User | None = None, now: datetime | None = None
) -> None:
    """Create the request's tasks from its item's plan and open the first stage.

    The ticket goes to ``item.fulfilment_team`` (else the first task's team) and is put in
    progress. Called once the approvals are through (or at ordering, without approval steps);
    once the tasks exist, a second call does nothing."""
    now = now or timezone.now()
    with transaction.atomic(), catalogue_moves_ticket():
        locked = _lock(request)
        if locked.state not in (RequestState.AWAITING_APPROVAL, RequestState.IN_FULFILMENT):
            raise ServiceError(
                f"A {locked.get_state_display().lower()} request is not fulfilled.", code="request_final"
            )
        if locked.state == RequestState.IN_FULFILMENT and locked.tasks.exists():
            return
        mover = _ticket_actor(actor)
        with acting(actor=mover):
            locked.state = RequestState.IN_FULFILMENT
            locked.save()
            _start(request=locked, actor=actor, mover=mover, now=now)
    # The caller (an approval decision, the order) goes on with its own instance.
    request.state, request.version = locked.state, locked.version


def _start(*, request: CatalogRequest, actor: User | None, mover: User, now: datetime) -> None:
    templates = list(request.item.task_templates.select_related("team").order_by("stage", "pk"))
    for template in templates:
        RequestTask.objects.create(
            request=request,
            number=task_number(),
            stage=template.stage,
            name=template.name,
            instructions=template.instructions,
            team=template.team,
            target_minutes=template.target_minutes,
            state=TaskState.WAITING,
        )
    ticket = request.ticket
    team = request.item.fulfilment_team or (templates[0].team if templates else None)
    if team is not None and ticket.status in OPEN_STATUSES and ticket.assigned_team_id != team.pk:
        ticket = ticket_assign(
            actor=mover, ticket=ticket, team=team, reason="Fulfilment of the catalogue request."
        )
    if ticket.status in (Status.NEW, Status.ASSIGNED) and ticket.assigned_team_id:
        ticket = ticket_transition(actor=mover, ticket=ticket, to=Status.IN_PROGRESS)
    if not templates:
        _timeline(ticket, actor, f"Fulfilment started by {team.name if team else 'the service desk'}")
        return
    first = templates[0].stage
    opened = _open_stage(request=request, stage=first, now=now)
    _timeline(ticket, actor, f"Fulfilment started. {_stage_summary(first, opened)}")


# --- working a task ----------------------------------------------------------------------------
def _locked_task(task: RequestTask) -> tuple[CatalogRequest, RequestTask]:
    request = _lock(task.request)
    fresh = RequestTask.objects.select_related("team").get(pk=task.pk)
    return request, fresh


def _refresh_caller(task: RequestTask, fresh: RequestTask) -> RequestTask:
    """Hand the caller's instance the saved state (views and the API render it next)."""
    for field in ("state", "assignee_id", "opened_at", "due_at", "started_at", "done_at", "note", "version"):
        setattr(task, field, getattr(fresh, field))
    return task


def task_assign(
    *, actor: User, task: RequestTask, assignee: User | None, expected_version: int | None = None
) -> RequestTask:
    """Give the task to a member of its team (``None`` takes it back to the team's queue)."""
    _check_worker(actor, task, "assign")
    if assignee is not None and not (assignee.is_active and _is_member(assignee, task.team_id)):
        raise ServiceError(
            f"{assignee} is not a member of {task.team.name}.", code="not_in_team", field="assignee"
        )
    with transaction.atomic(), acting(actor=actor), catalogue_moves_ticket():
        request, fresh = _locked_task(task)
        check_version(instance=fresh, expected_version=expected_version)
        if fresh.state in FINISHED_TASK_STATES:
            raise ServiceError(
                f"{fresh.number} is {fresh.get_state_display().lower()}.", code="task_final", field="assignee"
            )
        fresh.assignee = assignee
        fresh.save()
        who = str(assignee) if assignee else f"the {fresh.team.name} queue"
        _timeline(
            request.ticket, actor, f"{fresh.number} ({fresh.name}) assigned to {who}", task=fresh.number
        )
    return _refresh_caller(task, fresh)


def task_start(*, actor: User, task: RequestTask, expected_version: int | None = None) -> RequestTask:
    """An agent of the team starts an open task (and takes it if nobody has)."""
    _check_worker(actor, task, "start")
    now = timezone.now()
    with transaction.atomic(), acting(actor=actor), catalogue_moves_ticket():
        request, fresh = _locked_task(task)
        check_version(instance=fresh, expected_version=expected_version)
        if fresh.state != TaskState.OPEN:
            raise ServiceError(
                f"{fresh.number} is {fresh.get_state_display().lower()}; only an open task starts.",
                code="invalid_task_state",
                field="state",
            )
        fresh.state, fresh.started_at = TaskState.IN_PROGRESS, now
        fresh.assignee = fresh.assignee or actor
        fresh.save()
        _timeline(
            request.ticket, actor, f"{fresh.number} ({fresh.name}) started by {actor}", task=fresh.number
        )
    return _refresh_caller(task, fresh)


def task_complete(
    *, actor: User, task: RequestTask, note: str = "", expected_version: int | None = None
) -> RequestTask:
    """Mark an open or started task done; the last of its stage opens the next stage, the last
    of all resolves the request's ticket as fulfilled."""
    _check_worker(actor, task, "complete")
    note = (note or "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ServiceError(f"Keep the note under {MAX_NOTE_LENGTH} characters.", field="note")
    now = timezone.now()
    with transaction.atomic(), acting(actor=actor), catalogue_moves_ticket():
        request, fresh = _locked_task(task)
        check_version(instance=fresh, expected_version=expected_version)
        if fresh.state not in OPEN_TASK_STATES:
            raise ServiceError(
                f"{fresh.number} is {fresh.get_state_display().lower()}: only open tasks are done.",
                code="invalid_task_state",
                field="state",
            )
        fresh.state, fresh.done_at, fresh.note = TaskState.DONE, now, note
        fresh.started_at = fresh.started_at or now
        fresh.assignee = fresh.assignee or actor
        fresh.save()
        _timeline(
            request.ticket,
            actor,
            f"{fresh.number} ({fresh.name}) done by {actor}",
            body=note,
            task=fresh.number,
        )
        _advance(request=request, actor=actor, now=now)
    return _refresh_caller(task, fresh)


def task_cancel(
    *, actor: User, task: RequestTask, reason: str, expected_version: int | None = None
) -> RequestTask:
    """A task that is not needed after all; the plan goes on as if it were done."""
    _check_worker(actor, task, "cancel")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise ServiceError("Say why the task is not needed.", field="reason")
    if len(reason) > MAX_NOTE_LENGTH:
        raise ServiceError(f"Keep the reason under {MAX_NOTE_LENGTH} characters.", field="reason")
    now = timezone.now()
    with transaction.atomic(), acting(actor=actor), catalogue_moves_ticket():
        request, fresh = _locked_task(task)
        check_version(instance=fresh, expected_version=expected_version)
        if fresh.state in FINISHED_TASK_STATES:
            raise ServiceError(
                f"{fresh.number} is already {fresh.get_state_display().lower()}.", code="task_final"
            )
        fresh.state, fresh.done_at, fresh.note = TaskState.CANCELLED, now, reason
        fresh.save()
        _timeline(
            request.ticket,
            actor,
            f"{fresh.number} ({fresh.name}) cancelled by {actor}",
            body=reason,
            task=fresh.number,
        )
        _advance(request=request, actor=actor, now=now)
    return _refresh_caller(task, fresh)


def _advance(*, request: CatalogRequest, actor: User, now: datetime) -> None:
    """After a task finished: open the next stage when this one is through, or resolve."""
    if request.state != RequestState.IN_FULFILMENT:
        return
    states = list(request.tasks.values_list("stage", "state"))
    if any(state in OPEN_TASK_STATES for _, state in states):
        return
    waiting = sorted({stage for stage, state in states if state == TaskState.WAITING})
    if waiting:
        opened = _open_stage(request=request, stage=waiting[0], now=now)
        _timeline(request.ticket, actor, _stage_summary(waiting[0], opened))
        return
    if not any(state == TaskState.DONE for _, state in states):
        # Every task was cancelled: nothing was delivered, so an agent decides what happens.
        _timeline(
            request.ticket,
            actor,
            "Every fulfilment task was cancelled; the service desk decides what follows",
        )
        return
    request_fulfil(request=request, actor=actor, now=now)


def request_fulfil(*, request: CatalogRequest, actor: User | None, now: datetime | None = None) -> None:
    """Mark the request fulfilled and resolve its ticket (the requester is asked to rate it).
    Called under the request's lock by the completion of the last task."""
    now = now or timezone.now()
    with transaction.atomic(), catalogue_moves_ticket():
        request.state, request.fulfilled_at = RequestState.FULFILLED, now
        request.save()
        ticket = Ticket.objects.get(pk=request.ticket_id)
        _timeline(ticket, actor, "Every fulfilment task is done: the request is fulfilled")
        if ticket.status in OPEN_STATUSES:
            ticket_transition(
                actor=_ticket_actor(actor),
                ticket=ticket,
                to=Status.RESOLVED,
                resolution_code=ResolutionCode.FULFILLED,
                resolution_notes=f"{request.item.name} delivered.",
            )


# --- ending a request early ------------------------------------------------------------------------
def request_wind_down(*, request: CatalogRequest, actor: User | None, state: str, reason: str = "") -> None:
    """End an open request (cancelled, or settled on its ticket): pending approvals are no
    longer needed and open tasks are cancelled. The caller holds the request's lock and
    moves the ticket itself."""
    now = timezone.now()
    request.state = state
    if reason:
        request.closed_reason = reason
    if state == RequestState.FULFILLED:
        request.fulfilled_at = request.fulfilled_at or now
    request.save()
    for approval in request.approvals.filter(state__in=(ApprovalState.PENDING, ApprovalState.WAITING)):
        approval.state = ApprovalState.SKIPPED
        approval.save()
    cancelled = []
    for task in request.tasks.filter(state__in=(TaskState.WAITING, *OPEN_TASK_STATES)).order_by("pk"):
        task.state, task.done_at = TaskState.CANCELLED, now
        task.note = task.note or reason or f"The request is {RequestState(state).label.lower()}."
        task.save()
        cancelled.append(task.number)
    if cancelled:
        _timeline(
            request.ticket, actor, f"Open fulfilment tasks cancelled: {', '.join(cancelled)}", tasks=cancelled
        )
