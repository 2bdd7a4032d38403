"""Owners are e-mailed when their articles pass the review-by date: by the daily job, through a
real SMTP server, one message per owner, once per review date, retried after a refused send."""

from __future__ import annotations

import datetime
import socket

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.core.choices import JobStatus
from opsdesk.core.models import Job
from opsdesk.knowledge import services
from opsdesk.knowledge.models import Article
from opsdesk.knowledge.tasks import flag_articles_due_for_review
from tests.accounts.factories import UserFactory
from tests.core.test_jobs_and_scheduler import run_queued_tasks
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db(transaction=True)


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def run_review_check() -> Job:
    flag_articles_due_for_review.enqueue()
    run_queued_tasks()
    return Job.objects.filter(name__endswith="flag_articles_due_for_review").order_by("-id").first()


def test_each_owner_gets_one_message_listing_their_overdue_articles_once(smtp_server, people):
    vpn = make_article(people.agent, title="VPN from home", review_by=days_ago(3))
    mail = make_article(people.agent, title="Shared mailbox", review_by=days_ago(1))
    make_article(people.agent, title="Fresh", review_by=timezone.localdate() + datetime.timedelta(days=9))
    other = make_article(people.other_agent, title="Printers", review_by=days_ago(2))
    nobody = UserFactory(username="kb-no-mail", email="", role=Role.AGENT)
    orphan = make_article(nobody, title="Orphan", review_by=days_ago(2))

    job = run_review_check()

    assert job.status == JobStatus.SUCCEEDED
    by_address = {message["X-Envelope-To"]: message for message in smtp_server.messages}
    assert sorted(by_address) == [people.agent.email, people.other_agent.email]
    both = by_address[people.agent.email]
    assert both["Subject"] == "2 knowledge articles are past their review date"
    text = both.get_content()
    assert text.index(vpn.number) < text.index(mail.number)  # oldest date first
    assert f"review by {days_ago(3):%Y-%m-%d}" in text and f"/kb/{vpn.pk}/" in text and "/kb/review/" in text
    assert "Fresh" not in text
    single = by_address[people.other_agent.email]
    assert single["Subject"] == f"[{other.number}] review date passed: Printers"
    assert f"{orphan.number} is past its review date and has no owner with an e-mail address" in job.log

    run_review_check()  # the next day: same review dates, nothing new
    assert len(smtp_server.messages) == 2


def test_a_new_review_date_is_reminded_again_when_it_passes(smtp_server, people):
    article = make_article(people.agent, title="Wi-Fi", review_by=days_ago(5))
    run_review_check()
    assert len(smtp_server.messages) == 1
    services.article_update(actor=people.agent, article=article, data={"review_by": days_ago(1)})
    assert Article.objects.get(pk=article.pk).review_flagged_at is None
    run_review_check()
    assert len(smtp_server.messages) == 2
    assert f"review by {days_ago(1):%Y-%m-%d}" in smtp_server.messages[-1].get_content()


def test_line_breaks_in_a_title_never_reach_the_subject(smtp_server, people):
    article = make_article(people.agent, title="Printer", review_by=days_ago(1))
    Article.objects.filter(pk=article.pk).update(title="Printer\r\nBcc: victim@example.org\nX-Evil: 1")
    run_review_check()
    (message,) = smtp_server.messages
    assert (
        message["Subject"]
        == f"[{article.number}] review date passed: Printer Bcc: victim@example.org X-Evil: 1"
    )
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["X-Envelope-To"] == people.agent.email


def test_a_refused_message_fails_the_job_and_is_sent_at_the_next_check(smtp_server, people, settings):
    article = make_article(people.agent, title="Calendar", review_by=days_ago(1))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_PORT = closed_port
    job = run_review_check()
    assert job.status == JobStatus.FAILED and "retried at the next check" in job.error
    assert Article.objects.get(pk=article.pk).review_flagged_at is None

    settings.EMAIL_PORT = smtp_server.port
    assert run_review_check().status == JobStatus.SUCCEEDED
    (message,) = smtp_server.messages
    assert message["X-Envelope-To"] == people.agent.email
    assert Article.objects.get(pk=article.pk).review_flagged_at is not None
