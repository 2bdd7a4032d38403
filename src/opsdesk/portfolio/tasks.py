"""Background work of the portfolio: contract renewal reminders."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.portfolio.selectors import contracts_due_for_reminder

logger = logging.getLogger("opsdesk.portfolio.tasks")


@job_task
def send_contract_renewal_reminders() -> int:
    """E-mail each contract's owner once before its notice date; returns how many were sent."""
    today = timezone.localdate()
    sent = 0
    for contract in contracts_due_for_reminder(today=today):
        recipient = contract.owner.email if contract.owner and contract.owner.email else None
        if recipient is None:
            logger.warning("contract %s has no owner with an e-mail address; no reminder sent", contract)
            continue
        notice = contract.notice_date
        send_mail(
            subject=f"Notice date {notice:%d %b %Y}: {contract}",
            message=(
                f"The contract {contract.reference} with {contract.provider} "
                f"ends on {contract.end_date:%d %b %Y}.\n"
                f"Notice must be given by {notice:%d %b %Y} ({contract.notice_period_days} days' notice"
                f"{', renews automatically' if contract.auto_renew else ''}).\n\n"
                f"Decide whether to renew: {settings.SITE_URL}{contract.get_absolute_url()}\n"
            ),
            from_email=None,
            recipient_list=[recipient],
        )
        # A plain update: the reminder is bookkeeping, not an edit of the contract.
        type(contract).objects.filter(pk=contract.pk).update(reminded_for_notice_date=notice)
        logger.info("reminded %s about contract %s", recipient, contract)
        sent += 1
    return sent


register_schedule(
    name="contract-renewal-reminders",
    task="opsdesk.portfolio.tasks.send_contract_renewal_reminders",
    cron="0 7 * * *",
)
