"""The platform's own background tasks."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.models import Job
from opsdesk.core.scheduler import register_schedule

logger = logging.getLogger("opsdesk.core.tasks")

JOB_RETENTION_DAYS_DEFAULT = 30


@job_task
def prune_finished_jobs() -> int:
    """Delete Job rows older than the retention period (OPSDESK_JOB_RETENTION_DAYS)."""
    days = getattr(settings, "JOB_RETENTION_DAYS", JOB_RETENTION_DAYS_DEFAULT)
    deleted, _ = Job.objects.filter(finished_at__lt=timezone.now() - timedelta(days=days)).delete()
    logger.info("pruned %s jobs older than %s days", deleted, days)
    return deleted


register_schedule(
    name="prune-finished-jobs", task="opsdesk.core.tasks.prune_finished_jobs", cron="17 3 * * *"
)
