"""E-mail the service desk sends from background tasks: escalation notices to team leads and
managers, and the satisfaction survey to the requester.

The services enqueue these in their own transaction, so a rolled-back escalation or
resolution tells nobody. This module sits below the services (it reads records and
sends mail, it never writes through a service), which is why it is not ``tasks.py``: the
tasks there call services.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from opsdesk.core.jobs import job_task
from opsdesk.tickets.models import EscalationRecord, Survey

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
    lines += ["", f"Take it up: {settings.SITE_URL}{reverse('tickets:detail', args=[ticket.number])}"]
    return "\n".join(lines) + "\n"


RATING_WORDS = {5: "Excellent", 4: "Good", 3: "OK", 2: "Poor", 1: "Very poor"}


@job_task
def send_survey_request(*, survey_id: int) -> bool:
    """Ask the requester to rate their resolved ticket, with one link per rating; once."""
    survey = Survey.objects.select_related("ticket__requester").filter(pk=survey_id).first()
    if survey is None or survey.requested_at is not None or survey.answered_at is not None:
        return False
    ticket, requester = survey.ticket, survey.ticket.requester
    if not requester.email:
        logger.warning("survey for %s not sent: %s has no e-mail address", ticket.number, requester)
        return False
    links = "\n".join(
        f"  {rating} — {word}: {settings.SITE_URL}{reverse('tickets:rate_link', args=[survey.token, rating])}"
        for rating, word in RATING_WORDS.items()
    )
    send_mail(
        subject=f"[{ticket.number}] How did we do? {ticket.title}",
        message=(
            f"Hello {requester.first_name or requester.username},\n\n"
            f"We have resolved your ticket {ticket.number}: {ticket.title}.\n"
            f"Please tell us how we did — one click is enough:\n\n{links}\n\n"
            "If it is not fixed, choose a low rating and you can reopen the ticket.\n"
        ),
        from_email=None,
        recipient_list=[requester.email],
    )
    Survey.objects.filter(pk=survey.pk).update(requested_at=timezone.now())
    return True
