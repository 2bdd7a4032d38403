"""Background work of the knowledge base: the daily check of review-by dates."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.knowledge.services import articles_flag_expired

logger = logging.getLogger("opsdesk.knowledge.tasks")


@job_task
def flag_articles_due_for_review() -> int:
    """Flag published articles whose review-by date passed; their owners see them under Needs review."""
    flagged = articles_flag_expired(now=timezone.now())
    logger.info("review check: %s articles flagged (%s)", len(flagged), ", ".join(map(str, flagged[:50])))
    return len(flagged)


register_schedule(
    name="knowledge-review-check",
    task="opsdesk.knowledge.tasks.flag_articles_due_for_review",
    cron="15 6 * * *",
)
