"""Background work of the service levels: the warning and breach sweep every minute, and the
re-timing that follows a calendar edit (the jobs themselves live in ``sla.jobs``)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.sla.jobs import retime_timers
from opsdesk.sla.services import sla_sweep

logger = logging.getLogger("opsdesk.sla.tasks")


@job_task
def sweep_sla() -> int:
    """Record the warnings and breaches now due; returns how many."""
    recorded = sla_sweep(now=timezone.now())
    logger.info("SLA sweep: %s thresholds reached", recorded)
    return recorded


register_schedule(name="sla-sweep", task="opsdesk.sla.tasks.sweep_sla", cron="* * * * *")


def calendar_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A calendar edit re-times the open timers that count on it, once the edit is committed."""
    if not created:
        transaction.on_commit(lambda: retime_timers.enqueue(calendar_id=instance.pk))
