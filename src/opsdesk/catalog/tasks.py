"""Background work of the request catalogue: the approval sweep, every five minutes, which
hands approvals to delegates whose period began, reminds approvers who wait too long and then
asks their manager too."""

from __future__ import annotations

import logging

from opsdesk.catalog.services.approval_sweep import approvals_sweep
from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule

logger = logging.getLogger("opsdesk.catalog.tasks")


@job_task
def sweep_approvals() -> dict:
    """Run the approval sweep once; returns its counts."""
    counts = approvals_sweep()
    logger.info(
        "approval sweep: %s handed to delegates, %s reminded, %s escalated, %s could not be escalated",
        counts["delegated"],
        counts["reminded"],
        counts["escalated"],
        counts["unescalated"],
    )
    return counts


register_schedule(
    name="catalog-approvals-sweep", task="opsdesk.catalog.tasks.sweep_approvals", cron="*/5 * * * *"
)
