"""Background work of notifications: announcing one timeline event (write its messages, make
the first attempt at each), and the sweep that retries what is due, every minute."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.notifications import services

logger = logging.getLogger("opsdesk.notifications.tasks")


@job_task
def notify_event(*, event_id: int) -> dict[str, int]:
    """Tell the people a timeline event concerns; returns how many messages ended in each state."""
    counts = {"sent": 0, "queued": 0, "failed": 0}
    for message_id in services.messages_prepare(event_id=event_id):
        status = services.message_deliver(message_id=message_id)
        if status in counts:
            counts[status] += 1
    logger.info("event %s: %s", event_id, counts)
    return counts


@job_task
def send_due_messages() -> dict[str, int]:
    """Retry the queued messages whose next attempt is due."""
    counts = services.messages_send_due(now=timezone.now())
    if any(counts.values()):
        logger.info("outbox sweep: %s", counts)
    return counts


register_schedule(
    name="notification-retries", task="opsdesk.notifications.tasks.send_due_messages", cron="* * * * *"
)
