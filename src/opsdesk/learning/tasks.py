"""Background work of the learning app: the daily certification sweep, which marks expired
certifications and reminds agents (and their team leads) of those expiring soon, once per
expiry date."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.learning.notifications import send_expiry_reminders
from opsdesk.learning.services import certifications_refresh_status

logger = logging.getLogger("opsdesk.learning.tasks")


@job_task
def sweep_certifications() -> dict:
    """Refresh every certification's status, then send the reminders due; returns the counts."""
    today = timezone.localdate()
    counts = certifications_refresh_status(today=today)
    reminded = send_expiry_reminders(today=today)
    logger.info(
        "certification sweep: %s newly expired, %s newly expiring, %s reminders sent",
        counts["expired"],
        counts["expiring"],
        reminded,
    )
    return {**counts, "reminded": reminded}


register_schedule(
    name="learning-certification-sweep", task="opsdesk.learning.tasks.sweep_certifications", cron="15 6 * * *"
)
