"""Writes of the knowledge base. Each checks its rule, writes in one transaction as the actor
(audited) and says clearly why it refuses: articles and their versions, the lifecycle, files,
feedback and views, articles that resolved tickets, known errors published as articles,
deflections, and the daily review-date check."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.richtext import render_markdown
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.core.uploads import check_upload
from opsdesk.knowledge import workflows
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleVersion,
    Deflection,
    TicketArticle,
)
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.models import Problem, Ticket
from opsdesk.tickets.services.lifecycle import record_event

logger = logging.getLogger("opsdesk.knowledge")

CONTENT_FIELDS = ("title", "body")
EDITABLE_FIELDS = frozenset(
    {"title", "body", "audience", "team", "language", "tags", "owner", "review_by", "problem"}
)
M2M_FIELDS = frozenset({"categories", "services", "reviewers"})
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def clean_tags(tags: Any) -> list[str]:
    """Tags as a short list of distinct, trimmed words (lower case), or a clear error."""
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple) or not all(isinstance(tag, str) for tag in tags):
        raise ServiceError("Tags are a list of words.", field="tags")
    cleaned: dict[str, None] = {}
    for tag in tags:
        tag = " ".join(tag.split()).lower()
        if len(tag) > MAX_TAG_LENGTH:
            raise ServiceError(f"A tag has at most {MAX_TAG_LENGTH} characters.", field="tags")
        if tag:
            cleaned.setdefault(tag, None)
    if len(cleaned) > MAX_TAGS:
        raise ServiceError(f"At most {MAX_TAGS} tags.", field="tags")
    return list(cleaned)


def _save_version(*, article: Article, actor: User | None, note: str) -> ArticleVersion:
    article.current_version += 1
    Article.objects.filter(pk=article.pk).update(current_version=article.current_version)
    return ArticleVersion.objects.create(
        article=article,
        number=article.current_version,
        title=article.title,
        body=article.body,
        author=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:300],
    )


def article_create(
    *,
    actor: User,
    title: str,
    body: str = "",
    audience: str = Audience.INTERNAL,
    team=None,
    language: str = "en",
    tags: Iterable[str] | None = None,
    categories: Iterable = (),
    services: Iterable = (),
    owner: User | None = None,
    reviewers: Iterable = (),
    review_by=None,
    problem: Problem | None = None,
    note: str = "",
) -> Article:
    """Write a new article as a draft (version 1); its author owns it unless another owner is named."""
    ensure_allowed(actor=actor, action="add", model=Article)
    if not (title or "").strip():
        raise ServiceError("Give the article a title.", field="title")
    with transaction.atomic(), acting(actor=actor):
        article = Article(
            title=title.strip(),
            body=body or "",
            body_html=render_markdown(body or ""),
            audience=audience,
            team=team,
            language=(language or "en").strip().lower(),
            tags=clean_tags(tags),
            owner=owner or actor,
            review_by=review_by,
            problem=problem,
        )
        article.full_clean()
        article.save()
        # Object level: a team's article is written by that team's members (or managers).
        ensure_allowed(actor=actor, action="add", instance=article)
        article.categories.set(categories)
        article.services.set(services)
        article.reviewers.set(reviewers)
        _save_version(article=article, actor=actor, note=note or "Created")
    return article


def article_update(
    *,
    actor: User,
    article: Article,
    data: dict[str, Any],
    expected_version: int | None = None,
    note: str = "",
) -> Article:
    """Edit an article; a change of title or text is saved as a new version with ``note``."""
    ensure_allowed(actor=actor, action="change", instance=article)
    unknown = set(data) - EDITABLE_FIELDS - M2M_FIELDS
    if unknown:
        raise ServiceError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if "title" in data and not (data["title"] or "").strip():
        raise ServiceError("Give the article a title.", field="title")
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=article, expected_version=expected_version)
        content_changed = False
        if "review_by" in data and data["review_by"] != article.review_by:
            # A new review date is a new promise: its passing is flagged (and mailed) again.
            article.review_flagged_at = None
        for name, value in data.items():
            if name in M2M_FIELDS:
                continue
            if name == "tags":
                value = clean_tags(value)
            if name == "title":
                value = value.strip()
            if name == "language":
                value = (value or "en").strip().lower()
            if name == "body":
                value = value or ""
            if name in CONTENT_FIELDS and getattr(article, name) != value:
                content_changed = True
            setattr(article, name, value)
        if "audience" in data and article.audience != Audience.TEAM and "team" not in data:
            article.team = None
        article.body_html = render_markdown(article.body)
        article.full_clean()
        article.save()
        ensure_allowed(actor=actor, action="change", instance=article)
        for name in M2M_FIELDS & set(data):
            getattr(article, name).set(data[name] or [])
        if content_changed:
            _save_version(article=article, actor=actor, note=note or "Edited")
    return article


def is_publisher(*, actor: User, article: Article) -> bool:
    """The owner, a reviewer, or a manager/administrator decides what is published."""
    if actor.is_manager or actor.can_write_all:
        return True
    if article.owner_id == actor.pk:
        return True
    return article.reviewers.filter(pk=actor.pk).exists()


def article_transition(
    *, actor: User, article: Article, to: str, expected_version: int | None = None
) -> Article:
    """Move an article through its lifecycle (see workflows.MOVES) or say why not."""
    ensure_allowed(actor=actor, action="change", instance=article)
    if to not in ArticleStatus.values:
        raise ServiceError(f"'{to}' is not a status of an article.", code="invalid_status", field="to")
    move = workflows.move_for(article.status, to)
    if move is None:
        allowed = ", ".join(ArticleStatus(m.target).label for m in workflows.moves_from(article.status))
        raise ServiceError(
            f"A {article.get_status_display().lower()} article cannot become "
            f"{ArticleStatus(to).label.lower()}. From here: {allowed or 'nothing'}.",
            code="illegal_transition",
            field="to",
        )
    if move.who == workflows.PUBLISHER and not is_publisher(actor=actor, article=article):
        raise NotAllowed(
            f"Only the article's owner, its reviewers or a manager may {move.verb.lower()}.", field="to"
        )
    if to == ArticleStatus.PUBLISHED and not article.body.strip():
        raise ServiceError("Write the article before publishing it.", code="empty_article", field="body")
    now = timezone.now()
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=article, expected_version=expected_version)
        article.status = to
        if to == ArticleStatus.PUBLISHED:
            article.published_at = now
            article.retired_at = None
            if article.review_by and article.review_by >= timezone.localdate():
                article.review_flagged_at = None
        elif to == ArticleStatus.RETIRED:
            article.retired_at = now
        article.save()
    return article


def article_restore(*, actor: User, article: Article, version: ArticleVersion) -> Article:
    """Bring back an old version's title and text as a new version (history is never rewritten)."""
    if version.article_id != article.pk:
        raise ServiceError("That version belongs to another article.", field="version")
    if version.title == article.title and version.body == article.body:
        raise ServiceError(
            f"The article already reads like version {version.number}.", code="unchanged", field="version"
        )
    return article_update(
        actor=actor,
        article=article,
        data={"title": version.title, "body": version.body},
        note=f"Restored version {version.number}",
    )


def article_attach(*, actor: User, article: Article, upload: Any) -> ArticleAttachment:
    """Attach a file or an image (checked type, content and size) to an article."""
    ensure_allowed(actor=actor, action="change", instance=article)
    checked = check_upload(upload)
    with transaction.atomic(), acting(actor=actor):
        attachment = ArticleAttachment(
            article=article,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=actor,
        )
        attachment.file.save(checked.name, upload, save=False)
        attachment.save()
    return attachment


def article_detach(*, actor: User, attachment: ArticleAttachment) -> None:
    ensure_allowed(actor=actor, action="change", instance=attachment.article)
    with transaction.atomic(), acting(actor=actor):
        attachment.file.delete(save=False)
        attachment.delete()


def _readable(actor: User, article: Article) -> bool:
    return Article.objects.restrict(actor, "view").filter(pk=article.pk).exists()


def article_record_view(*, article: Article) -> None:
    """Count one reading: a single UPDATE, no lock held, no audit entry."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


def article_feedback_set(
    *, actor: User, article: Article, helpful: bool, comment: str = ""
) -> ArticleFeedback:
    """Record (or change) the actor's verdict on an article; one per reader, counters kept in step."""
    if not _readable(actor, article) or article.status != ArticleStatus.PUBLISHED:
        raise NotAllowed("Feedback is given on published articles you can read.")
    if actor.is_read_only:
        raise NotAllowed("Read-only roles give no feedback.")
    comment = (comment or "").strip()[:2000]
    with transaction.atomic(), acting(actor=actor):
        feedback = ArticleFeedback.objects.select_for_update().filter(article=article, user=actor).first()
        counters = {}
        if feedback is None:
            try:
                with transaction.atomic():
                    feedback = ArticleFeedback.objects.create(
                        article=article, user=actor, helpful=helpful, comment=comment
                    )
            except IntegrityError:
                raise ServiceError(
                    "Your feedback was being saved twice at once; reload the page.", code="conflict"
                ) from None
            counters["helpful_count" if helpful else "not_helpful_count"] = 1
        else:
            if feedback.helpful != helpful:
                counters = {"helpful_count": 1, "not_helpful_count": -1}
                if not helpful:
                    counters = {"helpful_count": -1, "not_helpful_count": 1}
            feedback.helpful, feedback.comment = helpful, comment
            feedback.save()
        if counters:
            Article.objects.filter(pk=article.pk).update(
                **{name: F(name) + delta for name, delta in counters.items()}
            )
    return feedback


def ticket_article_link(*, actor: User, ticket: Ticket, article: Article) -> TicketArticle:
    """Record that ``article`` resolved (or helps resolve) ``ticket``; it counts as used to resolve."""
    if not actor.is_agent or actor.is_read_only:
        raise NotAllowed("Agents link articles to tickets.")
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not _readable(actor, article):
        raise NotAllowed("You cannot read that article.", field="article")
    if article.status != ArticleStatus.PUBLISHED:
        raise ServiceError(
            "Only published articles are linked to tickets.", code="not_published", field="article"
        )
    if TicketArticle.objects.filter(ticket=ticket, article=article).exists():
        raise ServiceError(
            f"{article.number} is already linked to {ticket.number}.", code="duplicate", field="article"
        )
    with transaction.atomic(), acting(actor=actor):
        link = TicketArticle.objects.create(ticket=ticket, article=article, linked_by=actor)
        Article.objects.filter(pk=article.pk).update(resolved_count=F("resolved_count") + 1)
        record_event(ticket, EventKind.LINK, actor, data={"article": f"{article.number} {article.title}"})
    return link


def ticket_article_unlink(*, actor: User, link: TicketArticle) -> None:
    if not actor.is_agent or actor.is_read_only:
        raise NotAllowed("Agents link articles to tickets.")
    ensure_allowed(actor=actor, action="change", instance=link.ticket)
    with transaction.atomic(), acting(actor=actor):
        Article.objects.filter(pk=link.article_id, resolved_count__gt=0).update(
            resolved_count=F("resolved_count") - 1
        )
        link.delete()


def known_error_body(problem: Problem) -> str:
    parts = []
    if problem.description.strip():
        parts += ["## Symptoms", "", problem.description.strip(), ""]
    if problem.root_cause.strip():
        parts += ["## Cause", "", problem.root_cause.strip(), ""]
    parts += ["## Workaround", "", problem.workaround.strip(), ""]
    parts += [f"_Known error {problem.number}. This article is updated when the problem is solved._"]
    return "\n".join(parts)


def problem_publish_article(
    *, actor: User, problem: Problem, audience: str = Audience.INTERNAL, publish: bool = True
) -> Article:
    """Turn a known error (its symptoms, cause and workaround) into an article, in one step."""
    ensure_allowed(actor=actor, action="view", instance=problem)
    if not problem.known_error or not problem.workaround.strip():
        raise ServiceError(
            "Only known errors with a workaround become articles: record the workaround first.",
            code="not_known_error",
        )
    if audience not in (Audience.PUBLIC, Audience.INTERNAL):
        raise ServiceError(
            "A known error is published for requesters or for the service desk.", field="audience"
        )
    existing = Article.objects.filter(problem=problem).exclude(status=ArticleStatus.RETIRED).first()
    if existing is not None:
        raise ServiceError(f"{problem.number} is already {existing.number}.", code="duplicate")
    with transaction.atomic():
        article = article_create(
            actor=actor,
            title=problem.title,
            body=known_error_body(problem),
            audience=audience,
            tags=["known error"],
            categories=[problem.category_id] if problem.category_id else [],
            services=[problem.service_id] if problem.service_id else [],
            problem=problem,
            note=f"From known error {problem.number}",
        )
        if publish:
            article = article_transition(actor=actor, article=article, to=ArticleStatus.PUBLISHED)
    return article


def deflection_record(*, actor: User, article: Article, query: str = "") -> Deflection:
    """A requester's problem was solved by ``article`` before they raised a ticket."""
    if not _readable(actor, article):
        raise NotAllowed("You cannot read that article.")
    if article.status != ArticleStatus.PUBLISHED or article.audience != Audience.PUBLIC:
        raise ServiceError("Only published public articles solve problems in the portal.", code="not_public")
    query = " ".join((query or "").split())[:300]
    with transaction.atomic(), acting(actor=actor):
        deflection = Deflection.objects.create(user=actor, article=article, query=query)
        Article.objects.filter(pk=article.pk).update(deflection_count=F("deflection_count") + 1)
    return deflection


def articles_flag_expired(*, now=None) -> list[int]:
    """Flag the published articles whose review-by date has passed (once), for their owners."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = Article.objects.filter(
        status=ArticleStatus.PUBLISHED, review_by__lt=today, review_flagged_at__isnull=True
    )
    ids = list(due.values_list("id", flat=True))
    if ids:
        Article.objects.filter(pk__in=ids).update(review_flagged_at=now)
    return ids
