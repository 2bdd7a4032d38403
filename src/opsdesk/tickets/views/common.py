"""Pieces the service desk screens share: fetching a ticket as the reader may see it, refusing
writes the reader may not make, and the words requesters read instead of ITIL terms."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from opsdesk.core.views import may, style_form
from opsdesk.tickets import selectors
from opsdesk.tickets.choices import PendingReason, Status
from opsdesk.tickets.models import Ticket

# What a requester reads for each status: plain words, no jargon.
PLAIN_STATUS = {
    Status.NEW: "We've got it",
    Status.ASSIGNED: "We're working on it",
    Status.IN_PROGRESS: "We're working on it",
    Status.PENDING: "Waiting on someone else",
    Status.RESOLVED: "Solved",
    Status.CLOSED: "Closed",
    Status.CANCELLED: "Cancelled",
}
STATUS_BADGE = {
    Status.NEW: "text-bg-info",
    Status.ASSIGNED: "text-bg-primary",
    Status.IN_PROGRESS: "text-bg-primary",
    Status.PENDING: "text-bg-warning",
    Status.RESOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-secondary",
    Status.CANCELLED: "text-bg-secondary",
}
PRIORITY_BADGE = {
    1: "text-bg-danger",
    2: "text-bg-warning",
    3: "text-bg-info",
    4: "text-bg-light",
    5: "text-bg-light",
}


def plain_status(ticket: Ticket) -> str:
    if ticket.status == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER:
        return "Waiting for you"
    return PLAIN_STATUS.get(ticket.status, ticket.get_status_display())


def decorate(tickets: Any) -> list[Ticket]:
    """Attach the labels and badge classes templates show (no queries)."""
    tickets = list(tickets)
    for ticket in tickets:
        ticket.plain_status = plain_status(ticket)
        ticket.status_badge = STATUS_BADGE.get(ticket.status, "text-bg-secondary")
        ticket.priority_badge = PRIORITY_BADGE.get(ticket.priority, "text-bg-light")
    return tickets


def ticket_or_404(user: Any, number: str) -> Ticket:
    """The ticket as ``user`` may see it; a ticket they may not see is simply missing."""
    try:
        ticket = selectors.ticket_get_for(user=user, number=number)
    except Ticket.DoesNotExist as exc:
        raise Http404("No ticket here.") from exc
    decorate([ticket])
    return ticket


def require_change(user: Any, instance: Any) -> None:
    """Refuse with 403 a write the user may not make (read-only roles included)."""
    if not may(user, "change", instance):
        raise PermissionDenied("You may not change this.")


def require_agent(user: Any) -> None:
    if not user.is_agent:
        raise PermissionDenied("This page is for the service desk.")


def require_agent_writer(user: Any) -> None:
    if not user.is_agent or user.is_read_only:
        raise PermissionDenied("Only the service desk changes this.")


def styled(form: Any, *, small: bool = False) -> Any:
    style_form(form, small=small)
    return form


def safe_next(request: Any, fallback: str) -> str:
    """Where to go back to after a form: a local address only, never another site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def first_error(form: Any) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return "Check the form."
