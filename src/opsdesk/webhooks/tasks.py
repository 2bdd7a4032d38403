"""Background work of the inbound webhooks: pruning the delivery log daily."""

from __future__ import annotations

import logging

from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.webhooks.services import deliveries_prune

logger = logging.getLogger("opsdesk.webhooks.tasks")


@job_task
def prune_webhook_deliveries() -> int:
    """Delete webhook deliveries past their retention; returns how many."""
    deleted = deliveries_prune(now=timezone.now())
    logger.info("Webhook deliveries pruned: %s", deleted)
    return deleted


register_schedule(
    name="webhook-deliveries-prune", task="opsdesk.webhooks.tasks.prune_webhook_deliveries", cron="17 3 * * *"
)
