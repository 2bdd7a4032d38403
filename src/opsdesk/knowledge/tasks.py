"""Background work of the knowledge base: the daily check of review-by dates."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.knowledge.notifications import send_review_reminders
from opsdesk.knowledge.services import articles_flag_expired

logger = logging.getLogger("opsdesk.knowledge.tasks")


class ReviewReminderFailed(RuntimeError):
    """Some owners could not be mailed; their articles are retried at the next check."""


@job_task
def flag_articles_due_for_review() -> int:
    """Flag published articles whose review-by date passed and e-mail their owners, once per
    review date. A mail the server refuses fails the Job (its log names the owner) and is
    retried the next day; the others are sent."""
    flagged = articles_flag_expired(now=timezone.now())
    logger.info("review check: %s articles flagged (%s)", len(flagged), ", ".join(map(str, flagged[:50])))
    outcome = send_review_reminders(article_ids=flagged)
    if outcome.failed:
        raise ReviewReminderFailed(
            f"{len(outcome.failed)} articles' owners could not be e-mailed; retried at the next check."
        )
    return len(flagged)


register_schedule(
    name="knowledge-review-check",
    task="opsdesk.knowledge.tasks.flag_articles_due_for_review",
    cron="15 6 * * *",
)
