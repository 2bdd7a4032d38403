"""Reads of the service desk, restricted to what the reader may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket, TimelineEvent

LIST_RELATIONS = ("requester", "organization", "service", "category", "assigned_team", "assignee")


def ticket_list_for(*, user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.restrict(user, "view").select_related(*LIST_RELATIONS)


def ticket_get_for(*, user: Any, number: str, action: str = "view") -> Ticket:
    """The ticket if ``user`` may ``action`` it; Ticket.DoesNotExist otherwise (forbidden looks missing)."""
    return ticket_list_for(user=user).restrict(user, action).get(number=number)


def triage_queue_for(*, user: Any) -> QuerySet[Ticket]:
    """New, unassigned tickets: the most urgent first, then the oldest."""
    return (
        ticket_list_for(user=user)
        .filter(status=Status.NEW, assigned_team__isnull=True)
        .order_by("priority", "id")
    )


def timeline_for(*, user: Any, ticket: Ticket) -> QuerySet[TimelineEvent]:
    """The ticket's timeline as the user may see it (requesters never see internal entries)."""
    return TimelineEvent.objects.restrict(user, "view").filter(ticket=ticket).select_related("author")
