"""What the global search finds in the service desk: tickets and problems, in full text.

A ticket's document is its number, title, description and public replies; agents (whoever may
read internal notes) match a fuller variant that adds the internal notes, so a requester never
finds a ticket by, or sees a snippet of, an internal note.
"""

from __future__ import annotations

import re

from django.urls import reverse

from opsdesk.core.querysets import permission_filter
from opsdesk.core.search import PrivateText, register_search
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.models import Problem, Ticket, TimelineEvent

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
        prefetch_related=("events",),
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
