"""E-mail of the knowledge base: owners are told when their articles pass the review-by date.

The daily review check (tasks.flag_articles_due_for_review) flags each overdue article once per
review date (``review_flagged_at``; a new review date clears it) and calls this module with the
articles it just flagged: one message per owner listing all of theirs. When the mail server
refuses a message, that owner's articles are unflagged again, so tomorrow's check retries them;
nothing is ever sent twice for the same review date. This module reads records and sends mail;
it writes nothing through a service.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from opsdesk.knowledge.models import Article

logger = logging.getLogger("opsdesk.knowledge.notifications")

MAX_SUBJECT_LENGTH = 200


@dataclass
class ReminderOutcome:
    sent: list[str] = field(default_factory=list)  # addresses mailed
    skipped: list[int] = field(default_factory=list)  # articles without an owner to mail
    failed: list[int] = field(default_factory=list)  # articles unflagged again for a retry


def header_safe(text: str) -> str:
    """One line for a mail header: CR, LF and other line breaks become spaces; bounded."""
    line = " ".join(str(text or "").splitlines()).replace("\r", " ").replace("\n", " ")
    line = " ".join(line.split())
    return line if len(line) <= MAX_SUBJECT_LENGTH else line[: MAX_SUBJECT_LENGTH - 1] + "…"


def article_url(article: Article) -> str:
    return f"{settings.SITE_URL}{reverse('knowledge:detail', args=[article.pk])}"


def review_subject(articles: list[Article]) -> str:
    if len(articles) == 1:
        article = articles[0]
        return header_safe(f"[{article.number}] review date passed: {article.title}")
    return header_safe(f"{len(articles)} knowledge articles are past their review date")


def review_message(owner, articles: list[Article]) -> str:
    lines = [
        f"Hello {owner.get_full_name() or owner.get_username()},",
        "",
        "The review-by date of these published articles you own has passed. Check that each is",
        "still right, then set a new review date (or retire the article):",
        "",
    ]
    for article in articles:
        lines.append(f"- {article.number} {' '.join(article.title.split())}")
        lines.append(f"  review by {article.review_by:%Y-%m-%d} · {article_url(article)}")
    lines += [
        "",
        f"All articles due for review: {settings.SITE_URL}{reverse('knowledge:needs_review')}",
        "",
        "You get this message once per review date.",
    ]
    return "\n".join(lines) + "\n"


def send_review_reminders(*, article_ids: Iterable[int]) -> ReminderOutcome:
    """Mail each owner the articles of ``article_ids`` they own (one message per owner)."""
    outcome = ReminderOutcome()
    ids = list(article_ids)
    if not ids:
        return outcome
    by_owner: dict[int, list[Article]] = defaultdict(list)
    owners = {}
    for article in Article.objects.filter(pk__in=ids).select_related("owner").order_by("review_by", "id"):
        owner = article.owner
        if owner is None or not owner.is_active or not owner.email:
            outcome.skipped.append(article.pk)
            logger.warning(
                "%s is past its review date and has no owner with an e-mail address", article.number
            )
            continue
        owners[owner.pk] = owner
        by_owner[owner.pk].append(article)
    for owner_pk, articles in by_owner.items():
        owner = owners[owner_pk]
        try:
            send_mail(
                subject=review_subject(articles),
                message=review_message(owner, articles),
                from_email=None,
                recipient_list=[header_safe(owner.email)],
            )
        except Exception:  # SMTP refused or unreachable: unflag, so tomorrow's check retries
            failed = [article.pk for article in articles]
            Article.objects.filter(pk__in=failed).update(review_flagged_at=None)
            outcome.failed.extend(failed)
            logger.exception("review reminder to %s failed; retried at the next check", owner.email)
            continue
        outcome.sent.append(owner.email)
        logger.info(
            "review reminder sent to %s: %s", owner.email, ", ".join(article.number for article in articles)
        )
    return outcome
