"""Reminder e-mail for certifications about to expire: to the holder and the leads of their
teams, once per certification and expiry date (a renewal is reminded again in its own window).

It reads records and sends mail, and notes the reminder with a compare-and-set; it sits below
the tasks that call it."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.urls import reverse

from opsdesk.accounts.models import User
from opsdesk.learning.choices import CertificationStatus
from opsdesk.learning.models import Certification
from opsdesk.learning.services import certification_mark_reminded

logger = logging.getLogger("opsdesk.learning.notifications")


def _one_line(text: str) -> str:
    # Names come from people: never let a line break reach a header.
    return " ".join(str(text).split())


def reminder_recipients(person: User) -> list[str]:
    """The holder and the leads of the teams they belong to (active people with an address)."""
    leads = User.objects.filter(led_teams__memberships__user=person, is_active=True).exclude(pk=person.pk)
    people = [person, *leads]
    return sorted({p.email for p in people if p.email and p.is_active})


def send_expiry_reminders(*, today: datetime.date) -> int:
    """Remind of every expiring certification not yet reminded for its expiry date; returns how
    many reminders went out. One that fails to send is left for tomorrow's sweep."""
    due = (
        Certification.objects.filter(status=CertificationStatus.EXPIRING, expires_on__gt=today)
        .exclude(reminded_for=F("expires_on"))
        .select_related("user")
        .order_by("expires_on", "pk")
    )
    sent = 0
    for certification in due:
        addresses = reminder_recipients(certification.user)
        if not addresses:
            logger.warning("certification %s: nobody to remind (no e-mail address)", certification.pk)
            continue
        # Claim first: a concurrent sweep that lost the claim sends nothing.
        if not certification_mark_reminded(certification=certification):
            continue
        try:
            send_mail(
                subject=_one_line(
                    f"Certification expiring on {certification.expires_on:%Y-%m-%d}: "
                    f"{certification.name} ({certification.user})"
                ),
                message=_message(certification, today),
                from_email=None,
                recipient_list=addresses,
            )
        except Exception:
            # Release the claim so tomorrow's sweep tries again.
            Certification.objects.filter(pk=certification.pk).update(reminded_for=None)
            logger.exception("certification %s: the reminder could not be sent", certification.pk)
            continue
        sent += 1
        logger.info("certification %s reminded to %s", certification.pk, ", ".join(addresses))
    return sent


def _message(certification: Certification, today: datetime.date) -> str:
    days = certification.days_left(today)
    url = settings.SITE_URL.rstrip("/") + reverse("learning:certification_detail", args=[certification.pk])
    lines = [
        f"{certification.user}'s certification {certification.name!s} expires on "
        f"{certification.expires_on:%A %d %B %Y} (in {days} day{'s' if days != 1 else ''}).",
        f"Issuer: {certification.issuer or '—'}   Certificate id: {certification.certificate_id or '—'}",
        "",
        "Renew it before then and record the new expiry date, so routing and audits keep counting it:",
        url,
        "",
        "You receive this once for this expiry date, as the holder or their team lead.",
    ]
    return "\n".join(lines)
