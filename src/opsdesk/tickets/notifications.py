"""E-mail that escalations send to team leads and managers, from a background task.

The escalation service enqueues ``send_escalation_notice`` in its own transaction, so a
rolled-back escalation tells nobody. This module sits below the services (it reads records and
sends mail, it never writes through a service), which is why it is not ``tasks.py``: the
tasks there call services.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.tickets.models import EscalationRecord

logger = logging.getLogger("opsdesk.tickets.notifications")


@job_task
def send_escalation_notice(*, record_id: int) -> int:
    """E-mail the people an escalation notifies, once; returns how many addresses were sent to."""
    record = (
        EscalationRecord.objects.select_related("ticket", "rule", "to_team", "from_team", "actor")
        .filter(pk=record_id)
        .first()
    )
    if record is None or record.notified_at is not None:
        return 0
    addresses = sorted({person.email for person in record.notified.all() if person.email})
    if not addresses:
        logger.warning("escalation %s notifies nobody with an e-mail address", record.pk)
        return 0
    ticket = record.ticket
    send_mail(
        subject=f"[{ticket.number}] escalated to level {record.level}: {ticket.title}",
        message=_message(record),
        from_email=None,
        recipient_list=addresses,
    )
    # Bookkeeping, not an edit of the escalation: a retry of this task sends nothing twice.
    EscalationRecord.objects.filter(pk=record.pk).update(notified_at=timezone.now())
    logger.info("escalation %s of %s notified %s", record.pk, ticket.number, ", ".join(addresses))
    return len(addresses)


def _message(record: EscalationRecord) -> str:
    ticket = record.ticket
    why = f"Rule: {record.rule.name}" if record.rule else f"Escalated by {record.actor or 'the desk'}"
    lines = [
        f"{ticket.number} — {ticket.title}",
        f"Priority: {ticket.get_priority_display()}   Status: {ticket.get_status_display()}",
        f"Escalation level {record.level} ({record.get_kind_display().lower()}).",
        why,
    ]
    if record.reason:
        lines.append(f"Reason: {record.reason}")
    if record.to_team and record.to_team != record.from_team:
        lines.append(f"Moved from {record.from_team or 'no team'} to {record.to_team}.")
    lines += ["", f"Open OpsDesk to take it up: {settings.SITE_URL}"]
    return "\n".join(lines) + "\n"
