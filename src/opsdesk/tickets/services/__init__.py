"""Writes for the service desk, one module per area; import from here."""

from opsdesk.tickets.services.conversation import ticket_attach
from opsdesk.tickets.services.lifecycle import (
    next_number,
    priority_for,
    ticket_assign,
    ticket_create,
    ticket_log_work,
    ticket_reply,
    ticket_transition,
    ticket_update,
)
from opsdesk.tickets.services.links import ticket_merge, ticket_relate, ticket_set_parent
from opsdesk.tickets.services.problems import problem_create, problem_link_incident, problem_update
from opsdesk.tickets.services.surveys import survey_answer

__all__ = [
    "next_number",
    "priority_for",
    "problem_create",
    "problem_link_incident",
    "problem_update",
    "survey_answer",
    "ticket_assign",
    "ticket_attach",
    "ticket_create",
    "ticket_log_work",
    "ticket_merge",
    "ticket_relate",
    "ticket_reply",
    "ticket_set_parent",
    "ticket_transition",
    "ticket_update",
]
