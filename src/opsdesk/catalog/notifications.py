"""E-mail of the approval engine: the approval request to each newly pending approver (with
signed Approve / Reject links), the reminder, the escalation to the approver's manager, and
the notice to the fulfilment team lead when an approval cannot be escalated.

The approval services enqueue ``send_approval_mail`` in their own transaction (with the
database task backend the job row commits with the change, so a rolled-back decision mails
nobody). The job reads records and sends mail; the claims that make reminders and
escalations happen once are the services' compare-and-set on ``reminded_at`` /
``escalated_at``. An approval decided before the job runs is not mailed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from opsdesk.catalog.choices import ApprovalState, Decision
from opsdesk.catalog.constants import APPROVAL_LINK_MAX_AGE_DAYS
from opsdesk.catalog.formspec import answers_display
from opsdesk.catalog.models import Approval
from opsdesk.catalog.services.approvals import approval_link
from opsdesk.core.jobs import job_task

logger = logging.getLogger("opsdesk.catalog.notifications")

REQUEST, REMINDER, ESCALATION, UNESCALATED = "request", "reminder", "escalation", "unescalated"
MAIL_KINDS = (REQUEST, REMINDER, ESCALATION, UNESCALATED)


def one_line(text: object) -> str:
    # Names and titles come from people: no line break or control character reaches a header.
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _subject(approval: Approval, kind: str) -> str:
    request = approval.request
    what = f"{request.item.name} for {request.requested_for}"
    prefix = {
        REQUEST: "Approval needed",
        REMINDER: "Reminder: approval needed",
        ESCALATION: "Escalated: approval needed",
        UNESCALATED: "Approval waiting, cannot be escalated",
    }[kind]
    return one_line(f"[{request.ticket.number}] {prefix}: {what}")


def _facts(approval: Approval) -> list[tuple[str, str]]:
    request = approval.request
    expected = (
        timezone.localtime(request.expected_at).strftime("%A %d %B %Y") if request.expected_at else "not set"
    )
    rows = [
        ("Item", request.item.name),
        ("For", str(request.requested_for)),
        ("Ordered by", str(request.ordered_by)),
        ("Price", f"{request.price} {request.currency}"),
        ("Expected delivery", expected),
        ("Step", f"{approval.step}: {approval.step_name} ({approval.required} approval(s) needed)"),
    ]
    return rows + answers_display(request.form, request.answers)


def _intro(approval: Approval, kind: str) -> str:
    request = approval.request
    asked = f"{request.requested_for} ordered {request.item.name}"
    if request.ordered_by_id != request.requested_for_id:
        asked = f"{request.ordered_by} ordered {request.item.name} for {request.requested_for}"
    if kind == REMINDER:
        return f"Reminder: {asked}, and your approval is still needed."
    if kind == ESCALATION:
        original = approval.escalated_from.approver if approval.escalated_from else "the approver"
        return (
            f"{asked}. {original} has not answered in time, so you are asked too: either of you may decide."
        )
    if kind == UNESCALATED:
        return (
            f"{asked}. The approval of {approval.approver} waits and cannot be escalated (no manager "
            "to ask). Chase the approver or arrange a delegate."
        )
    standing_in = f" You stand in for {approval.delegated_from}." if approval.delegated_from_id else ""
    return f"{asked}, and your approval is needed.{standing_in}"


def _message(approval: Approval, kind: str, recipient: str) -> EmailMultiAlternatives:
    request = approval.request
    facts = _facts(approval)
    inbox = _absolute(reverse("catalog:approvals"))
    request_url = _absolute(reverse("catalog:request", args=[request.ticket.number]))
    intro = _intro(approval, kind)
    lines = [intro, ""] + [f"{label}: {value}" for label, value in facts] + [""]
    html_links = ""
    if kind == UNESCALATED:
        lines += ["The request:", request_url]
    else:
        approve = approval_link(approval=approval, decision=Decision.APPROVE)
        reject = approval_link(approval=approval, decision=Decision.REJECT)
        lines += [
            "Approve (you confirm on the page, and may add a comment):",
            approve,
            "",
            "Reject (you confirm on the page and say why):",
            reject,
            "",
            f"The links work for {APPROVAL_LINK_MAX_AGE_DAYS} days and only for you. All your approvals:",
            inbox,
        ]
        html_links = format_html(
            '<p><a href="{}">Approve</a> &nbsp; <a href="{}">Reject</a></p>'
            '<p>You confirm on the page, and may add a comment. <a href="{}">All your approvals</a></p>',
            approve,
            reject,
            inbox,
        )
    html = format_html(
        '<p>{}</p><table>{}</table>{}<p><a href="{}">{}</a></p>',
        intro,
        format_html_join("", '<tr><th align="left">{}</th><td>{}</td></tr>', facts),
        html_links,
        request_url,
        request.ticket.number,
    )
    message = EmailMultiAlternatives(subject=_subject(approval, kind), body="\n".join(lines), to=[recipient])
    message.attach_alternative(f"<html><body>{html}</body></html>", "text/html")
    return message


def _recipient(approval: Approval, kind: str) -> str:
    if kind == UNESCALATED:
        team = approval.request.item.fulfilment_team
        lead = team.lead if team else None
        return lead.email if lead and lead.is_active and lead.email else ""
    approver = approval.approver
    return approver.email if approver.is_active and approver.email else ""


@job_task
def send_approval_mail(*, approval_ids: list[int], kind: str) -> int:
    """Mail each approval's approver (or, ``unescalated``, the fulfilment team lead) while the
    approval is still pending; returns how many messages went out. A reminder that fails to
    send is released, so the next sweep tries again."""
    if kind not in MAIL_KINDS:
        raise ValueError(f"unknown approval mail kind {kind!r}")
    approvals = (
        Approval.objects.filter(pk__in=approval_ids, state=ApprovalState.PENDING)
        .select_related(
            "approver",
            "delegated_from",
            "escalated_from__approver",
            "request__ticket",
            "request__item__fulfilment_team__lead",
            "request__requested_for",
            "request__ordered_by",
        )
        .order_by("pk")
    )
    sent = 0
    for approval in approvals:
        recipient = _recipient(approval, kind)
        if not recipient:
            logger.warning("approval %s (%s): nobody to mail (no active address)", approval.pk, kind)
            continue
        try:
            _message(approval, kind, recipient).send()
        except Exception:
            logger.exception("approval %s: the %s mail could not be sent", approval.pk, kind)
            if kind == REMINDER:
                Approval.objects.filter(pk=approval.pk).update(reminded_at=None)
            continue
        sent += 1
        logger.info("approval %s: %s mail sent to %s", approval.pk, kind, recipient)
    return sent
