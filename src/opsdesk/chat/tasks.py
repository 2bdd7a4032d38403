"""Background work of the live chat: the sweep that closes chats nobody will come back to."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.chat.services import chats_sweep
from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule

logger = logging.getLogger("opsdesk.chat.tasks")


@job_task
def sweep_chats() -> dict[str, int]:
    """Abandon waiting chats nobody accepted in time, end active chats silent for too long."""
    counts = chats_sweep(now=timezone.now())
    logger.info("chat sweep: %(abandoned)s abandoned, %(ended)s ended", counts)
    return counts


register_schedule(name="chat-sweep", task="opsdesk.chat.tasks.sweep_chats", cron="*/5 * * * *")
