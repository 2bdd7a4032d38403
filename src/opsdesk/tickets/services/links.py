"""Links between tickets: parent and children (a major incident), related tickets, and merging
a duplicate into the ticket it repeats."""

from __future__ import annotations

from django.db import transaction

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import ensure_allowed
from opsdesk.tickets.choices import OPEN_STATUSES, EventKind, ResolutionCode, Status
from opsdesk.tickets.models import Attachment, Ticket, TicketRelation, TimelineEvent
from opsdesk.tickets.services.lifecycle import record_event, ticket_transition
from opsdesk.tickets.signals import announce_change


def _agent_changing(actor: User, *tickets: Ticket) -> None:
    if not actor.is_agent:
        raise NotAllowed("Only the service desk links tickets.")
    for ticket in tickets:
        ensure_allowed(actor=actor, action="change", instance=ticket)


def ticket_set_parent(*, actor: User, ticket: Ticket, parent: Ticket | None) -> Ticket:
    """Make ``ticket`` a child of ``parent`` (which becomes a major incident), or detach it."""
    _agent_changing(actor, ticket, *([parent] if parent else []))
    if parent is not None:
        if parent.pk == ticket.pk:
            raise ServiceError("A ticket cannot be its own parent.", field="parent")
        if parent.parent_id is not None:
            raise ServiceError(
                f"{parent.number} is itself a child; link to its parent instead.", field="parent"
            )
        if ticket.children.exists():
            raise ServiceError(
                f"{ticket.number} has children of its own and cannot become a child.", field="parent"
            )
    with transaction.atomic(), acting(actor=actor):
        before = ticket.parent.number if ticket.parent_id else None
        ticket.parent = parent
        ticket.save()
        record_event(
            ticket, EventKind.LINK, actor, data={"parent": [before, parent.number if parent else None]}
        )
        if parent is not None:
            if not parent.is_major:
                parent.is_major = True
                parent.save()
            record_event(parent, EventKind.LINK, actor, data={"child": ticket.number})
    return ticket


def ticket_relate(*, actor: User, ticket: Ticket, related: Ticket) -> TicketRelation:
    _agent_changing(actor, ticket, related)
    if ticket.pk == related.pk:
        raise ServiceError("A ticket is not related to itself.", field="related")
    first, second = sorted((ticket, related), key=lambda item: item.pk)
    with transaction.atomic(), acting(actor=actor):
        relation, created = TicketRelation.objects.get_or_create(ticket=first, related=second)
        if created:
            record_event(ticket, EventKind.LINK, actor, data={"related": related.number})
            record_event(related, EventKind.LINK, actor, data={"related": ticket.number})
    return relation


def ticket_merge(*, actor: User, duplicate: Ticket, into: Ticket) -> Ticket:
    """Merge ``duplicate`` into ``into``: its conversation and files move over, its requester
    becomes a watcher (and hears about it), and the duplicate is resolved as such."""
    _agent_changing(actor, duplicate, into)
    if duplicate.pk == into.pk:
        raise ServiceError("A ticket cannot be merged into itself.", field="into")
    if into.status not in OPEN_STATUSES:
        raise ServiceError(
            f"{into.number} is {into.get_status_display().lower()}; merge into an open ticket.", field="into"
        )
    if duplicate.status not in OPEN_STATUSES:
        raise ServiceError(
            f"{duplicate.number} is already {duplicate.get_status_display().lower()}.", field="duplicate"
        )
    with transaction.atomic(), acting(actor=actor):
        moved = TimelineEvent.objects.filter(
            ticket=duplicate,
            kind__in=(
                EventKind.PUBLIC_REPLY,
                EventKind.INTERNAL_NOTE,
                EventKind.WORKLOG,
                EventKind.ATTACHMENT,
            ),
        ).update(ticket=into)
        Attachment.objects.filter(ticket=duplicate).update(ticket=into)
        if duplicate.requester_id != into.requester_id:
            into.watchers.add(duplicate.requester_id)
        into.watchers.add(*duplicate.watchers.values_list("pk", flat=True))
        record_event(
            into,
            EventKind.MERGE,
            actor,
            data={"merged": duplicate.number, "entries_moved": moved},
            body=f"{duplicate.number} ({duplicate.title}) was merged into this ticket.",
        )
        announce_change(into)
        duplicate.duplicate_of = into
        duplicate.save()
        # A public reply on the duplicate tells its requester where the conversation continues.
        record_event(
            duplicate,
            EventKind.PUBLIC_REPLY,
            actor,
            body=f"This request is handled together with {into.number}; follow it there.",
        )
        ticket_transition(
            actor=actor,
            ticket=duplicate,
            to=Status.RESOLVED,
            resolution_code=ResolutionCode.DUPLICATE,
            note=f"Merged into {into.number}.",
        )
    return into
