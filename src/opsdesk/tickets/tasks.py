"""Background work of the service desk: the automatic-escalation sweep every minute, and the
daily closing of tickets resolved longer ago than the reopen period."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.tickets.services import escalation_sweep
from opsdesk.tickets.services.lifecycle import tickets_close_resolved

logger = logging.getLogger("opsdesk.tickets.tasks")


@job_task
def sweep_escalations() -> int:
    """Escalate the open tickets that an escalation rule now holds for; returns how many."""
    escalated = escalation_sweep(now=timezone.now())
    logger.info("escalation sweep: %s tickets escalated", escalated)
    return escalated


register_schedule(
    name="ticket-escalation-sweep", task="opsdesk.tickets.tasks.sweep_escalations", cron="* * * * *"
)


@job_task
def close_resolved_tickets() -> int:
    """Close tickets whose reopen period is over; returns how many."""
    closed = tickets_close_resolved(now=timezone.now())
    logger.info("closed %s resolved tickets", closed)
    return closed


register_schedule(
    name="ticket-auto-close", task="opsdesk.tickets.tasks.close_resolved_tickets", cron="30 2 * * *"
)
