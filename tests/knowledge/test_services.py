"""The article lifecycle, versions, feedback, ticket links, known errors and the review check."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from opsdesk.core.choices import JobStatus
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.models import Job, Schedule
from opsdesk.core.scheduler import schedules_sync
from opsdesk.knowledge import selectors, services
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article, ArticleFeedback, Deflection, TicketArticle
from opsdesk.knowledge.tasks import flag_articles_due_for_review
from opsdesk.tickets.services.lifecycle import ticket_create
from opsdesk.tickets.services.problems import problem_create
from tests.core.test_jobs_and_scheduler import run_queued_tasks
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db


def test_a_new_article_is_a_draft_with_version_one_and_sanitized_html(people):
    article = services.article_create(
        actor=people.agent,
        title="  Printer  ",
        body="**Bold** <script>alert(1)</script> [x](javascript:alert(1))",
    )
    assert article.status == ArticleStatus.DRAFT
    assert article.owner == people.agent
    assert "<strong>Bold</strong>" in article.body_html
    assert "<script" not in article.body_html and "javascript:" not in article.body_html
    assert [(v.number, v.title) for v in article.versions.all()] == [(1, "Printer")]


def test_lifecycle_moves_and_clear_errors(people):
    article = make_article(people.agent, status=ArticleStatus.DRAFT)
    with pytest.raises(ServiceError, match=r"cannot become retired\. From here: In review, Published"):
        services.article_transition(actor=people.agent, article=article, to=ArticleStatus.RETIRED)
    with pytest.raises(ServiceError, match="not a status"):
        services.article_transition(actor=people.agent, article=article, to="gone")
    services.article_transition(actor=people.other_agent, article=article, to=ArticleStatus.IN_REVIEW)
    # Another agent may send for review, but only the owner, reviewers or managers publish.
    with pytest.raises(NotAllowed, match="owner, its reviewers or a manager"):
        services.article_transition(actor=people.other_agent, article=article, to=ArticleStatus.PUBLISHED)
    article.reviewers.add(people.other_agent)
    services.article_transition(actor=people.other_agent, article=article, to=ArticleStatus.PUBLISHED)
    assert article.published_at is not None
    services.article_transition(actor=people.manager, article=article, to=ArticleStatus.RETIRED)
    assert Article.objects.get(pk=article.pk).status == ArticleStatus.RETIRED


def test_an_empty_article_cannot_be_published(people):
    article = services.article_create(actor=people.agent, title="Later")
    with pytest.raises(ServiceError, match="Write the article"):
        services.article_transition(actor=people.agent, article=article, to=ArticleStatus.PUBLISHED)


def test_a_stale_edit_is_refused(people):
    article = make_article(people.agent)
    seen = article.version
    services.article_update(actor=people.agent, article=article, data={"title": "New"})
    stale = Article.objects.get(pk=article.pk)
    with pytest.raises(ConcurrencyConflict):
        services.article_update(
            actor=people.agent, article=stale, data={"title": "Other"}, expected_version=seen
        )


def test_team_article_needs_its_team(people):
    with pytest.raises(Exception, match="team"):
        services.article_create(actor=people.agent, title="T", body="b", audience=Audience.TEAM)
    with pytest.raises(NotAllowed):
        services.article_create(
            actor=people.other_agent, title="T", body="b", audience=Audience.TEAM, team=people.network
        )


def test_every_edit_is_a_version_and_an_old_one_can_be_restored(people):
    article = make_article(people.agent, title="Wi-Fi", body="Line one\nLine two")
    services.article_update(
        actor=people.agent, article=article, data={"body": "Line one\nLine 2 <b>"}, note="fix"
    )
    services.article_update(actor=people.agent, article=article, data={"tags": ["wifi"]})  # no new version
    versions = list(selectors.article_versions(article=article))
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].note == "fix"
    rows = selectors.version_diff_rows(old=versions[1], new=versions[0])
    changed = [row for row in rows if row.kind == "changed"]
    assert changed and changed[0].left == "Line two" and changed[0].right == "Line 2 &lt;b&gt;"
    unified = selectors.version_unified_diff(old=versions[1], new=versions[0])
    assert "-Line two" in unified and "+Line 2 <b>" in unified
    services.article_restore(actor=people.agent, article=article, version=versions[1])
    article.refresh_from_db()
    assert article.body == "Line one\nLine two" and article.current_version == 3
    assert article.versions.get(number=3).note == "Restored version 1"
    with pytest.raises(ServiceError, match="already reads like"):
        services.article_restore(actor=people.agent, article=article, version=versions[1])


def test_feedback_is_one_per_reader_and_changeable(people):
    article = make_article(people.agent)
    services.article_feedback_set(actor=people.requester, article=article, helpful=False, comment="unclear")
    services.article_feedback_set(actor=people.requester, article=article, helpful=True, comment="now ok")
    services.article_feedback_set(actor=people.other_agent, article=article, helpful=True)
    article.refresh_from_db()
    assert ArticleFeedback.objects.filter(article=article).count() == 2
    assert (article.helpful_count, article.not_helpful_count) == (2, 0)
    services.article_record_view(article=article)
    article.refresh_from_db()
    assert article.view_count == 1


def test_feedback_on_an_unreadable_article_is_refused(people):
    internal = make_article(people.agent, audience=Audience.INTERNAL)
    with pytest.raises(NotAllowed):
        services.article_feedback_set(actor=people.requester, article=internal, helpful=True)


def test_linking_an_article_to_a_ticket_counts_it_as_used_to_resolve(people):
    article = make_article(people.agent)
    ticket = ticket_create(actor=people.requester, title="Forgot my password")
    link = services.ticket_article_link(actor=people.agent, ticket=ticket, article=article)
    article.refresh_from_db()
    assert article.resolved_count == 1
    with pytest.raises(ServiceError, match="already linked"):
        services.ticket_article_link(actor=people.agent, ticket=ticket, article=article)
    with pytest.raises(NotAllowed):
        services.ticket_article_link(actor=people.requester, ticket=ticket, article=article)
    # The requester sees the public article linked to their ticket.
    assert [item.article for item in selectors.ticket_articles(user=people.requester, ticket=ticket)] == [
        article
    ]
    services.ticket_article_unlink(actor=people.agent, link=link)
    article.refresh_from_db()
    assert article.resolved_count == 0 and not TicketArticle.objects.exists()


def test_requester_does_not_see_an_internal_article_linked_to_their_ticket(people):
    internal = make_article(people.agent, audience=Audience.INTERNAL)
    ticket = ticket_create(actor=people.requester, title="VPN down")
    services.ticket_article_link(actor=people.agent, ticket=ticket, article=internal)
    assert list(selectors.ticket_articles(user=people.requester, ticket=ticket)) == []


def test_a_known_error_becomes_an_article_in_one_step(people):
    problem = problem_create(
        actor=people.agent,
        title="Outlook crashes on start",
        description="Outlook closes at once.",
        root_cause="A broken add-in.",
        workaround="Start Outlook with /safe and disable the add-in.",
        known_error=True,
    )
    article = services.problem_publish_article(actor=people.agent, problem=problem, audience=Audience.PUBLIC)
    assert article.status == ArticleStatus.PUBLISHED and article.problem == problem
    assert "disable the add-in" in article.body_html and "known error" in article.tags
    with pytest.raises(ServiceError, match="already"):
        services.problem_publish_article(actor=people.agent, problem=problem)
    unknown = problem_create(actor=people.agent, title="Slow wifi")
    with pytest.raises(ServiceError, match="Only known errors"):
        services.problem_publish_article(actor=people.agent, problem=unknown)
    with pytest.raises(NotAllowed):
        services.problem_publish_article(actor=people.requester, problem=problem)


def test_expired_review_dates_are_flagged_once(people):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    due = make_article(people.agent, review_by=yesterday)
    make_article(people.agent, title="Fresh", review_by=timezone.localdate() + datetime.timedelta(days=30))
    make_article(people.agent, title="Draft", review_by=yesterday, status=ArticleStatus.DRAFT)
    assert services.articles_flag_expired() == [due.pk]
    assert services.articles_flag_expired() == []
    assert list(selectors.articles_needing_review(user=people.agent)) == [due]


@pytest.mark.django_db(transaction=True)
def test_the_review_check_runs_as_a_job_and_is_scheduled_daily(people):
    due = make_article(people.agent, review_by=timezone.localdate() - datetime.timedelta(days=3))
    flag_articles_due_for_review.enqueue()
    run_queued_tasks()
    job = Job.objects.get(name__endswith="flag_articles_due_for_review")
    assert job.status == JobStatus.SUCCEEDED
    assert Article.objects.get(pk=due.pk).review_flagged_at is not None
    schedules_sync()
    assert Schedule.objects.get(name="knowledge-review-check").task.endswith("flag_articles_due_for_review")


def test_deflection_needs_a_public_published_article(people):
    article = make_article(people.agent)
    services.deflection_record(actor=people.requester, article=article, query="  forgot\r\n password ")
    assert Deflection.objects.get().query == "forgot password"
    article.refresh_from_db()
    assert article.deflection_count == 1
    internal = make_article(people.agent, audience=Audience.INTERNAL)
    with pytest.raises(ServiceError):
        services.deflection_record(actor=people.agent, article=internal)


def test_article_files_are_checked(people):
    article = make_article(people.agent)
    png = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, content_type="image/png")
    attachment = services.article_attach(actor=people.agent, article=article, upload=png)
    assert attachment.is_image
    fake = SimpleUploadedFile("evil.png", b"MZ\x90\x00", content_type="image/png")
    with pytest.raises(ServiceError, match="not really"):
        services.article_attach(actor=people.agent, article=article, upload=fake)
    with pytest.raises(NotAllowed):
        services.article_attach(actor=people.requester, article=article, upload=png)
