"""Keep a request consistent with its ticket when an agent moves the ticket directly.

The catalogue's own services move request tickets inside ``catalogue_moves_ticket()`` and
settle the request themselves; this receiver handles the other paths: an agent cancelling the
ticket (the request is cancelled, its open tasks too), or resolving or closing it while tasks
are still open (the request counts as fulfilled, or rejected when resolved as rejected, and
what was still open is cancelled with a line on the timeline). ``CatalogConfig.ready()``
calls :func:`connect`.
"""

from __future__ import annotations

from typing import Any

from opsdesk.catalog.choices import OPEN_REQUEST_STATES, RequestState
from opsdesk.catalog.models import CatalogRequest
from opsdesk.catalog.services.fulfilment import _timeline, catalogue_is_moving, request_wind_down
from opsdesk.core.audit import current_context
from opsdesk.tickets.choices import ResolutionCode, Status, TicketType
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.signals import ticket_changed

SETTLING_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
DISPATCH_UID = "opsdesk.catalog.receivers.ticket_settled"


def ticket_settled(sender: Any, ticket: Ticket, **kwargs: Any) -> None:
    """Runs inside the ticket's writing transaction: a failure here rolls the move back."""
    # Cheap checks first: this runs on every write of every ticket.
    if ticket.type != TicketType.REQUEST or ticket.status not in SETTLING_STATUSES or catalogue_is_moving():
        return
    request = (
        CatalogRequest.objects.select_for_update(of=("self",))
        .select_related("ticket", "item")
        .filter(ticket_id=ticket.pk, state__in=OPEN_REQUEST_STATES)
        .order_by("pk")
        .first()
    )
    if request is None:
        return
    actor = current_context().actor
    actor = actor if getattr(actor, "pk", None) else None
    if ticket.status == Status.CANCELLED:
        state, summary = RequestState.CANCELLED, f"The request was cancelled with its ticket {ticket.number}"
    elif ticket.resolution_code == ResolutionCode.REJECTED:
        state, summary = RequestState.REJECTED, f"The request was rejected on its ticket {ticket.number}"
    else:
        state, summary = RequestState.FULFILLED, f"The request was settled on its ticket {ticket.number}"
    reason = ticket.resolution_notes if ticket.status != Status.CANCELLED else ""
    request.ticket = ticket  # the timeline lines go on the instance being saved
    request_wind_down(request=request, actor=actor, state=state, reason=reason or summary + ".")
    _timeline(ticket, actor, summary)


def connect() -> None:
    ticket_changed.connect(ticket_settled, dispatch_uid=DISPATCH_UID)
