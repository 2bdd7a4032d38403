"""Template helpers of the request catalogue: prices and delivery times in words, state
badges and the request panel of a ticket page.

``{% load catalog %}``. The panel: ``{% request_panel_for ticket as panel %}`` costs no query
on a ticket that is not a service request, and three on one (the request, its approvals,
its tasks), whatever the size of its plan.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from opsdesk.catalog import selectors
from opsdesk.catalog.choices import ApprovalState, RequestState, TaskState
from opsdesk.catalog.models import CatalogRequest
from opsdesk.tickets.choices import TicketType

register = template.Library()

BADGES = {
    RequestState.AWAITING_APPROVAL: "text-bg-warning",
    RequestState.IN_FULFILMENT: "text-bg-primary",
    RequestState.FULFILLED: "text-bg-success",
    RequestState.REJECTED: "text-bg-danger",
    RequestState.CANCELLED: "text-bg-secondary",
    ApprovalState.WAITING: "text-bg-light border",
    ApprovalState.PENDING: "text-bg-warning",
    ApprovalState.APPROVED: "text-bg-success",
    ApprovalState.REJECTED: "text-bg-danger",
    ApprovalState.SKIPPED: "text-bg-secondary",
    TaskState.OPEN: "text-bg-info",
    TaskState.IN_PROGRESS: "text-bg-primary",
    TaskState.DONE: "text-bg-success",
    TaskState.CANCELLED: "text-bg-secondary",
}
# The words a requester reads; agents see the states' own labels.
PLAIN_APPROVAL = {
    ApprovalState.WAITING: "Not asked yet",
    ApprovalState.PENDING: "Deciding",
    ApprovalState.APPROVED: "Approved",
    ApprovalState.REJECTED: "Rejected",
    ApprovalState.SKIPPED: "Not needed",
}
PLAIN_TASK = {
    TaskState.WAITING: "Not started yet",
    TaskState.OPEN: "To do",
    TaskState.IN_PROGRESS: "Being worked on",
    TaskState.DONE: "Done",
    TaskState.CANCELLED: "Not needed",
}


@register.filter
def price(record: Any) -> str:
    """An item's or a request's price with its currency; "Free" when it costs nothing."""
    amount = getattr(record, "price", None)
    if amount is None:
        return ""
    amount = Decimal(amount)
    if amount == 0:
        return "Free"
    return f"{amount:,.2f} {record.currency}"


@register.filter
def delivery_words(item: Any) -> str:
    days = getattr(item, "delivery_days", 0) or 0
    if days == 0:
        return "Delivered the same day"
    if days == 1:
        return "Delivered in 1 working day"
    return f"Delivered in {days} working days"


@register.filter
def state_badge(state: str) -> str:
    """The Bootstrap badge classes of a request's, an approval's or a task's state."""
    return BADGES.get(state, "text-bg-light border")


@register.filter
def plain_approval(state: str) -> str:
    return PLAIN_APPROVAL.get(state, state)


@register.filter
def plain_task(state: str) -> str:
    return PLAIN_TASK.get(state, state)


def panel_for(*, order: CatalogRequest, user: Any) -> dict[str, Any]:
    """What the request panel shows: where the request stands, in words for the requester."""
    progress = selectors.request_progress(request=order)
    steps = progress["steps"]
    open_step = next((step for step in steps if step["state"] == ApprovalState.PENDING), None)
    my_pending = [
        approval["id"]
        for step in steps
        for approval in step["approvals"]
        if approval["state"] == ApprovalState.PENDING and (approval["approver"] or {}).get("id") == user.pk
    ]
    return {
        "order": order,
        "progress": progress,
        "agent": bool(getattr(user, "is_agent", False)),
        "open_step": open_step,
        "step_count": len(steps),
        "my_pending": my_pending,
        "stage_count": len(progress["stages"]),
    }


@register.simple_tag(takes_context=True)
def request_panel_for(context: template.Context, ticket: Any) -> dict[str, Any] | None:
    """The panel of the catalogue request behind ``ticket``, or None (not a request, or not one
    the reader may see)."""
    if getattr(ticket, "type", None) != TicketType.REQUEST:
        return None
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    order = CatalogRequest.objects.restrict(user, "view").filter(ticket=ticket).select_related("item").first()
    if order is None:
        return None
    return panel_for(order=order, user=user)
