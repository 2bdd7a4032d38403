"""Problems: the causes behind incidents, and known errors with their workarounds."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.tickets.choices import NUMBER_PREFIX, EventKind, ProblemStatus, TicketType
from opsdesk.tickets.models import Problem, Ticket
from opsdesk.tickets.services.lifecycle import next_number, record_event

PROBLEM_FIELDS = frozenset(
    {
        "title",
        "description",
        "status",
        "service",
        "category",
        "priority",
        "assigned_team",
        "assignee",
        "root_cause",
        "workaround",
        "known_error",
    }
)


def problem_create(
    *, actor: User, title: str, incidents: list[Ticket] | None = None, **fields: Any
) -> Problem:
    """Open a problem (agents), optionally from the incidents it explains."""
    ensure_allowed(actor=actor, action="add", model=Problem)
    refused = sorted(set(fields) - PROBLEM_FIELDS)
    if refused:
        raise ServiceError(f"{', '.join(refused)} cannot be set here.", field=refused[0])
    with transaction.atomic(), acting(actor=actor):
        problem = Problem(number=next_number(NUMBER_PREFIX["problem"]), title=title.strip(), **fields)
        _known_error_rules(problem)
        problem.full_clean()
        problem.save()
        for incident in incidents or []:
            problem_link_incident(actor=actor, problem=problem, incident=incident)
    return problem


def _known_error_rules(problem: Problem) -> None:
    # A known error is one whose cause and workaround are written down: that is what agents search for.
    if problem.known_error and not (problem.root_cause.strip() and problem.workaround.strip()):
        raise ServiceError("A known error needs its root cause and a workaround.", field="known_error")
    if problem.known_error and problem.status in (ProblemStatus.NEW, ProblemStatus.INVESTIGATING):
        problem.status = ProblemStatus.KNOWN_ERROR
    if problem.status == ProblemStatus.RESOLVED and problem.resolved_at is None:
        problem.resolved_at = timezone.now()


def problem_update(
    *, actor: User, problem: Problem, data: dict[str, Any], expected_version: int | None = None
) -> Problem:
    ensure_allowed(actor=actor, action="change", instance=problem)
    refused = sorted(set(data) - PROBLEM_FIELDS)
    if refused:
        raise ServiceError(f"{', '.join(refused)} cannot be changed here.", field=refused[0])
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=problem, expected_version=expected_version)
        for name, value in data.items():
            setattr(problem, name, value)
        _known_error_rules(problem)
        problem.full_clean()
        problem.save()
    return problem


def problem_link_incident(*, actor: User, problem: Problem, incident: Ticket) -> Ticket:
    """Record that ``problem`` causes ``incident``."""
    if not actor.is_agent:
        raise NotAllowed("Only the service desk links incidents to problems.")
    ensure_allowed(actor=actor, action="change", instance=incident)
    if incident.type != TicketType.INCIDENT:
        raise ServiceError("Only incidents are caused by problems.", field="incident")
    with transaction.atomic(), acting(actor=actor):
        incident.problem = problem
        incident.save()
        record_event(incident, EventKind.LINK, actor, data={"problem": problem.number})
    return incident
