"""Writes for the service desk, one module per area; import from here."""

from opsdesk.tickets.services.assignment import (
    assignee_pick,
    team_queue_settings_save,
    ticket_auto_assign,
)
from opsdesk.tickets.services.conversation import ticket_attach
from opsdesk.tickets.services.escalation import (
    escalation_rule_save,
    escalation_rules_apply,
    escalation_step_save,
    escalation_sweep,
    ticket_escalate,
)
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
from opsdesk.tickets.services.routing import routing_apply, routing_rule_save, ticket_route
from opsdesk.tickets.services.surveys import survey_answer

__all__ = [
    "assignee_pick",
    "escalation_rule_save",
    "escalation_rules_apply",
    "escalation_step_save",
    "escalation_sweep",
    "next_number",
    "priority_for",
    "problem_create",
    "problem_link_incident",
    "problem_update",
    "routing_apply",
    "routing_rule_save",
    "survey_answer",
    "team_queue_settings_save",
    "ticket_assign",
    "ticket_attach",
    "ticket_auto_assign",
    "ticket_create",
    "ticket_escalate",
    "ticket_log_work",
    "ticket_merge",
    "ticket_relate",
    "ticket_reply",
    "ticket_route",
    "ticket_set_parent",
    "ticket_transition",
    "ticket_update",
]
