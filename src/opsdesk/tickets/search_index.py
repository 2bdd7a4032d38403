"""What the global search finds in the service desk: tickets and problems, in full text.

A ticket's document is its number, title, description and public replies; agents (whoever may
read internal notes) match a fuller variant that adds the internal notes, so a requester never
finds a ticket by, or sees a snippet of, an internal note. It also names who may read the
ticket (requester, watchers, organisation: ``ticket_readers``), so a requester's search asks the
index for their tickets rather than listing them first.
"""

from __future__ import annotations

import re

from django.db.models.signals import m2m_changed
from django.urls import reverse

from opsdesk.core.querysets import permission_filter
from opsdesk.core.search import PrivateText, index_objects, register_search
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.models import Problem, Ticket, TimelineEvent
from opsdesk.tickets.permissions import requester_reader_keys

_DIGITS = re.compile(r"\d+")
TEXT_EVENTS = (EventKind.PUBLIC_REPLY, EventKind.INTERNAL_NOTE)


def _number_words(number: str) -> str:
    # "INC0001234" is also found as "1234": people quote the digits without the zeros.
    digits = "".join(_DIGITS.findall(number or ""))
    return f"{number} {digits.lstrip('0')}" if digits else number


def _texts(ticket: Ticket, kinds: tuple[str, ...]) -> list[str]:
    return [event.body for event in ticket.events.all() if event.kind in kinds and event.body]


def ticket_public_text(ticket: Ticket) -> str:
    return "\n".join(
        [_number_words(ticket.number), ticket.description, *_texts(ticket, (EventKind.PUBLIC_REPLY,))]
    )


def ticket_full_text(ticket: Ticket) -> str | None:
    notes = _texts(ticket, (EventKind.INTERNAL_NOTE,))
    return "\n".join([ticket_public_text(ticket), *notes]) if notes else None


def ticket_readers(ticket: Ticket) -> list[str]:
    """Who may read the ticket besides agents, as ``requester_reader_keys`` names them: its
    requester, its watchers and its organisation (whether that organisation shares its tickets
    is the reader's side, so changing the setting needs no reindexing)."""
    keys = [f"u{ticket.requester_id}", *(f"u{user.pk}" for user in ticket.watchers.all())]
    if ticket.organization_id:
        keys.append(f"o{ticket.organization_id}")
    return keys


def _watchers_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    # Watching changes who may read a ticket: its document's readers follow.
    if reverse and action == "pre_clear":  # user.watched_tickets.clear(): remember which
        instance._search_unwatched = list(instance.watched_tickets.values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        index_objects(Ticket, [instance.pk])
    else:
        index_objects(Ticket, pk_set if pk_set is not None else getattr(instance, "_search_unwatched", ()))


def reads_internal_notes(user) -> bool:
    return permission_filter(user, "view", TimelineEvent) is True


def problem_text(problem: Problem) -> str:
    return "\n".join(
        [_number_words(problem.number), problem.description, problem.root_cause, problem.workaround]
    )


def register() -> None:
    register_search(
        Ticket,
        fields=("number", "title", "description"),
        label="Ticket",
        kind="ticket",
        title=lambda t: f"{t.number} {t.title}",
        body=ticket_public_text,
        private=PrivateText(may_read=reads_internal_notes, body=ticket_full_text),
        # Replies and notes are part of the text; status changes, assignments… are not.
        related=((TimelineEvent, "ticket_id", lambda event: event.kind in TEXT_EVENTS),),
        prefetch_related=("events", "watchers"),
        readers=ticket_readers,
        reader_keys=requester_reader_keys,
    )
    m2m_changed.connect(
        _watchers_changed, sender=Ticket.watchers.through, dispatch_uid="opsdesk.search.ticket.watchers"
    )
    register_search(
        Problem,
        fields=("number", "title", "description"),
        label="Problem",
        kind="problem",
        title=lambda p: f"{p.number} {p.title}",
        body=problem_text,
        url=lambda p: reverse("tickets:problem_detail", args=[p.pk]),
    )
