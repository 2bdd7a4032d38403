"""Background work of the service desk: the automatic-escalation sweep, every minute."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.tickets.services import escalation_sweep

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
