"""The state machine of each ticket type: which moves exist, what each needs, who may make it.

A move not in the table is refused with the list of moves that are allowed from where the
ticket stands. Requests and incidents share a lifecycle today; each has its own table so
either can change without touching the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsdesk.tickets.choices import Status, TicketType

AGENT = "agent"
REQUESTER = "requester"


@dataclass(frozen=True)
class Transition:
    to: str
    who: frozenset[str]
    requires: tuple[str, ...] = ()


def _moves(*transitions: Transition) -> dict[str, Transition]:
    return {transition.to: transition for transition in transitions}


AGENTS = frozenset({AGENT})
ANYONE = frozenset({AGENT, REQUESTER})

_to_assigned = Transition(Status.ASSIGNED, AGENTS, ("assigned_team",))
_to_in_progress = Transition(Status.IN_PROGRESS, AGENTS)
_to_pending = Transition(Status.PENDING, AGENTS, ("pending_reason",))
_to_resolved = Transition(Status.RESOLVED, AGENTS, ("resolution_code",))
_to_cancelled = Transition(Status.CANCELLED, ANYONE)

INCIDENT_TRANSITIONS: dict[str, dict[str, Transition]] = {
    Status.NEW: _moves(_to_assigned, _to_in_progress, _to_pending, _to_resolved, _to_cancelled),
    Status.ASSIGNED: _moves(_to_in_progress, _to_pending, _to_resolved, _to_cancelled),
    Status.IN_PROGRESS: _moves(_to_pending, _to_resolved, _to_cancelled),
    Status.PENDING: _moves(_to_in_progress, _to_resolved, _to_cancelled),
    # Reopening (back to in progress) is allowed within the reopen period; the service checks it.
    Status.RESOLVED: _moves(Transition(Status.CLOSED, ANYONE), Transition(Status.IN_PROGRESS, ANYONE)),
    Status.CLOSED: {},
    Status.CANCELLED: {},
}
REQUEST_TRANSITIONS: dict[str, dict[str, Transition]] = {
    status: dict(moves) for status, moves in INCIDENT_TRANSITIONS.items()
}
TRANSITIONS = {TicketType.INCIDENT: INCIDENT_TRANSITIONS, TicketType.REQUEST: REQUEST_TRANSITIONS}


def allowed_moves(*, ticket_type: str, status: str, role: str) -> list[str]:
    return [to for to, move in TRANSITIONS[ticket_type][status].items() if role in move.who]


def transition_for(*, ticket_type: str, status: str, to: str) -> Transition | None:
    return TRANSITIONS[ticket_type][status].get(to)
