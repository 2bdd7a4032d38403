"""Ordering: an item ordered in the portal (or through the API) becomes a service request
ticket carrying the answers, with its approvals started or its fulfilment under way.

Everything that can refuse an order (who may order what for whom, the answers, whether every
approval step can be staffed) is checked before anything is written, and the writes happen in
one transaction: a refused order leaves no ticket, no request, no approval and no stored file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.accounts.services import automation_account
from opsdesk.catalog.choices import OPEN_REQUEST_STATES, FieldType, RequestState
from opsdesk.catalog.models import CatalogItem, CatalogRequest
from opsdesk.catalog.permissions import offered_to
from opsdesk.catalog.services.fulfilment import (
    _lock,
    _timeline,
    catalogue_moves_ticket,
    fulfilment_start,
    request_wind_down,
)
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.richtext import render_markdown
from opsdesk.core.services import check_version
from opsdesk.portfolio.business_time import BusinessTimeError, schedule_for
from opsdesk.tickets.choices import OPEN_STATUSES, Channel, EventKind, Status, TicketType
from opsdesk.tickets.services import ticket_attach, ticket_create, ticket_transition
from opsdesk.tickets.services.lifecycle import record_event

TITLE_MAX_LENGTH = 200
MAX_REASON_LENGTH = 2_000
# Business days are counted over at most this many calendar days (a calendar that is closed
# for longer has no sensible expected date: it falls back to calendar days).
DELIVERY_SEARCH_DAYS = 366 * 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the expected date ---------------------------------------------------------------------------
def expected_delivery(*, item: CatalogItem, start: datetime) -> datetime:
    """When an order placed at ``start`` is expected: ``item.delivery_days`` business days of
    the service's hours later (the close of business of that day), or calendar days when the
    service has no hours recorded."""
    days = item.delivery_days
    calendar = item.offering.service.service_hours
    if calendar is not None and days > 0:
        try:
            schedule = schedule_for(calendar)
        except (BusinessTimeError, ValueError):
            schedule = None
        if schedule is not None and schedule.has_working_time:
            local = start.astimezone(schedule.zone).date()
            counted = 0
            for offset in range(1, DELIVERY_SEARCH_DAYS):
                day = local + timedelta(days=offset)
                intervals = schedule.day_intervals(day.toordinal())
                if intervals:
                    counted += 1
                    if counted == days:
                        closing = _EPOCH + timedelta(microseconds=intervals[-1][1])
                        return closing.astimezone(schedule.zone)
    return start + timedelta(days=days)


# --- who may order what for whom -------------------------------------------------------------
def _check_orderable(*, actor: User, item: CatalogItem, requested_for: User) -> None:
    if not actor.is_active or actor.is_read_only:
        raise NotAllowed("Your account may not place orders.")
    if not item.is_active:
        raise ServiceError(f"{item.name} is no longer offered.", code="item_inactive")
    if not CatalogItem.objects.restrict(actor, "view").filter(pk=item.pk).exists():
        raise NotAllowed(f"{item.name} is not offered to you.", code="not_offered")
    if not requested_for.is_active:
        raise ServiceError(
            f"{requested_for} has left: orders are for active people.",
            code="inactive_person",
            field="requested_for",
        )
    if requested_for.pk != actor.pk and not actor.is_agent:
        if not item.allow_on_behalf:
            raise NotAllowed(
                f"{item.name} is ordered by each person for themselves.",
                code="no_on_behalf",
                field="requested_for",
            )
        if not actor.organization_id or actor.organization_id != requested_for.organization_id:
            raise NotAllowed(
                "You can order for colleagues of your own organisation only.",
                code="not_a_colleague",
                field="requested_for",
            )
    if not CatalogItem.objects.filter(offered_to(requested_for), pk=item.pk).exists():
        who = "you" if requested_for.pk == actor.pk else str(requested_for)
        raise NotAllowed(f"{item.name} is not offered to {who}.", code="not_offered", field="requested_for")


def _check_approvers(*, item: CatalogItem, requested_for: User, on) -> bool:
    """Whether the item needs approval; refuses (before anything is written) an order whose
    approval steps cannot all be staffed."""
    if not item.approval_steps.exists():
        return False
    from opsdesk.catalog.services.approvals import approvers_resolve  # a sibling that builds on this module

    approvers_resolve(item=item, requested_for=requested_for, on=on)
    return True


def _title(item: CatalogItem, person: User) -> str:
    title = f"{item.name} for {person}"
    return title if len(title) <= TITLE_MAX_LENGTH else title[: TITLE_MAX_LENGTH - 1] + "…"


def _attachment_keys(form: list[dict]) -> set[str]:
    return {field["key"] for field in form if field.get("type") == FieldType.ATTACHMENT}


# --- ordering ---------------------------------------------------------------------------------------
def request_order(
    *,
    actor: User,
    item: CatalogItem,
    answers: Mapping[str, Any],
    files: Mapping[str, Any] | None = None,
    requested_for: User | None = None,
    channel: str = Channel.PORTAL,
    now: datetime | None = None,
) -> CatalogRequest:
    """Order ``item`` for ``requested_for`` (default: the actor) with the form's ``answers``.

    The order becomes a service request ticket for that person (the orderer watches it when
    ordering for someone else) with the answers as its description and the files attached,
    plus the ``CatalogRequest`` holding the answers, price and expected date. Its approval then
    starts, or, for an item without approval steps, its fulfilment."""
    from opsdesk.catalog.formspec import answers_clean, answers_markdown  # written alongside

    now = now or timezone.now()
    requested_for = requested_for or actor
    if channel not in Channel.values:
        raise ServiceError(f"The channel is one of: {', '.join(Channel.values)}.", field="channel")
    _check_orderable(actor=actor, item=item, requested_for=requested_for)
    form = list(item.form or [])
    if not isinstance(answers, Mapping):
        raise ServiceError(
            "The answers are an object of field keys and values.", code="invalid_answers", field="answers"
        )
    cleaned, uploads = answers_clean(form, answers, files or {}, requester=actor)
    needs_approval = _check_approvers(item=item, requested_for=requested_for, on=timezone.localdate(now))

    # The desk lets requesters raise tickets for themselves only: an order a requester places
    # for a colleague is raised by the automation account, with the orderer watching it.
    on_own_account = actor.is_agent or requested_for.pk == actor.pk
    raiser = actor if on_own_account else automation_account()
    stored_files: list[str] = []
    try:
        with transaction.atomic(), catalogue_moves_ticket():
            ticket = ticket_create(
                actor=raiser,
                title=_title(item, requested_for),
                type=TicketType.REQUEST,
                requester=requested_for,
                description=answers_markdown(form, cleaned),
                service=item.offering.service,
                category=item.ticket_category,
                channel=channel,
                watchers=[actor] if actor.pk != requested_for.pk else None,
            )
            full_answers = dict(cleaned)
            for key, upload in uploads.items():
                try:
                    attachment = ticket_attach(actor=raiser, ticket=ticket, upload=upload)
                except ServiceError as error:
                    raise ServiceError(
                        error.message, code="invalid_answers", field=key, errors={key: [error.message]}
                    ) from error
                stored_files.append(attachment.file.name)
                full_answers[key] = {"attachment": attachment.pk, "name": attachment.original_name}
            if uploads:
                ticket.description = answers_markdown(form, full_answers)
                ticket.description_html = render_markdown(ticket.description)
                with acting(actor=raiser):
                    ticket.save(update_fields=["description", "description_html"])
            with acting(actor=actor):
                request = CatalogRequest.objects.create(
                    ticket=ticket,
                    item=item,
                    ordered_by=actor,
                    requested_for=requested_for,
                    form=form,
                    answers=full_answers,
                    price=item.price,
                    currency=item.currency,
                    state=RequestState.AWAITING_APPROVAL if needs_approval else RequestState.IN_FULFILMENT,
                    expected_at=expected_delivery(item=item, start=now),
                )
                on_behalf = "" if actor.pk == requested_for.pk else f" on behalf of {requested_for}"
                record_event(
                    ticket,
                    EventKind.TASK,
                    actor,
                    data={"summary": f"Ordered from the catalogue by {actor}{on_behalf}: {item.name}"},
                )
            if needs_approval:
                from opsdesk.catalog.services.approvals import approvals_start

                approvals_start(request=request, now=now)
            else:
                fulfilment_start(request=request, actor=None, now=now)
    except BaseException:
        # The rows rolled back; the stored files did not (storage is not transactional).
        for name in stored_files:
            default_storage.delete(name)
        raise
    request.refresh_from_db()
    return request


# --- cancelling ---------------------------------------------------------------------------------
def request_cancel(
    *, actor: User, request: CatalogRequest, reason: str = "", expected_version: int | None = None
) -> CatalogRequest:
    """The requester, the orderer or an agent cancels an open request: approvals still pending
    are no longer needed, open tasks are cancelled and the ticket is cancelled."""
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise ServiceError(f"Keep the reason under {MAX_REASON_LENGTH} characters.", field="reason")
    if not CatalogRequest.objects.restrict(actor, "view").filter(pk=request.pk).exists():
        raise NotAllowed("You may not cancel this request.")
    is_party = actor.pk in (request.requested_for_id, request.ordered_by_id)
    if actor.is_read_only or not actor.is_active or not (actor.is_agent or is_party):
        raise NotAllowed(
            "Only the requester, the person who ordered it or the service desk cancels a request."
        )
    with transaction.atomic(), catalogue_moves_ticket():
        locked = _lock(request)
        check_version(instance=locked, expected_version=expected_version)
        if locked.state not in OPEN_REQUEST_STATES:
            raise ServiceError(
                f"This request is already {locked.get_state_display().lower()}.", code="request_final"
            )
        with acting(actor=actor):
            said = f": {reason}" if reason else ""
            request_wind_down(
                request=locked,
                actor=actor,
                state=RequestState.CANCELLED,
                reason=reason or f"Cancelled by {actor}.",
            )
            _timeline(locked.ticket, actor, f"Request cancelled by {actor}{said}", body=reason)
            ticket = locked.ticket
            if ticket.status in OPEN_STATUSES:
                # The desk lets a requester move only the tickets they raised; the orderer of a
                # colleague's request cancels through the automation account.
                mover = actor if (actor.is_agent or actor.pk == ticket.requester_id) else automation_account()
                ticket_transition(actor=mover, ticket=ticket, to=Status.CANCELLED, note=reason)
    request.refresh_from_db()
    return request
