"""Satisfaction: the requester rates a resolved ticket; a low rating flags it and may reopen it."""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets.choices import LOW_RATING, EventKind, Status
from opsdesk.tickets.models import Survey
from opsdesk.tickets.services.lifecycle import record_event, ticket_transition

RATINGS = range(1, 6)


def survey_answer(
    *, survey: Survey, rating: int, comment: str = "", actor: User | None = None, reopen: bool = False
) -> Survey:
    """Record the rating (1–5). ``actor`` is the signed-in requester, or None for the one-click
    link (the token already proved who it is). A rating of 2 or less flags the ticket for review;
    with ``reopen`` it also reopens the ticket, within the reopen period."""
    ticket = survey.ticket
    actor = actor or ticket.requester
    if actor.pk != ticket.requester_id:
        raise NotAllowed("Only the person who raised the ticket rates it.")
    if isinstance(rating, bool) or rating not in RATINGS:
        raise ServiceError("Rate from 1 (very poor) to 5 (excellent).", field="rating")
    if survey.answered_at is not None:
        raise ServiceError(
            "This ticket has been rated already; thank you.", code="already_rated", field="rating"
        )
    with transaction.atomic(), acting(actor=actor):
        survey.rating, survey.comment, survey.answered_at = rating, comment.strip(), timezone.now()
        survey.needs_review = rating <= LOW_RATING
        survey.save()
        record_event(ticket, EventKind.SURVEY, actor, body=survey.comment, data={"rating": rating})
    if reopen and survey.needs_review and ticket.status == Status.RESOLVED:
        # Past the reopen period the rating still counts: needs_review brings it to the desk.
        with contextlib.suppress(ServiceError):
            ticket_transition(
                actor=actor, ticket=ticket, to=Status.IN_PROGRESS, note="Reopened from the rating."
            )
    return survey
