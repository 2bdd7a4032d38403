"""Reads of the knowledge base, always through the user's restrictions: article lists,
suggestions for a query or a ticket, similar resolved tickets, versions and their diffs, the
articles due for review and the knowledge gaps report."""

from __future__ import annotations

import difflib
import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape

from opsdesk.accounts.models import User
from opsdesk.core.search import MAX_PAGE_SIZE, SearchHit, search_documents
from opsdesk.knowledge import matching
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.constants import (
    BODY_WEIGHT,
    CANDIDATE_LIMIT,
    DIFF_CONTEXT_LINES,
    GAP_DAYS,
    GAP_MIN_TICKETS,
    GAP_TITLE_SAMPLE,
    GAP_WORD_LIMIT,
    POOR_FEEDBACK_MIN_VOTES,
    POOR_FEEDBACK_RATIO,
    SIMILAR_TICKET_LIMIT,
    SUGGESTION_LIMIT,
    TAG_WEIGHT,
    TITLE_WEIGHT,
)
from opsdesk.knowledge.models import Article, ArticleVersion, TicketArticle
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Category, Ticket

logger = logging.getLogger("opsdesk.knowledge.selectors")

RESOLVED_STATUSES = (Status.RESOLVED, Status.CLOSED)


# --- articles -------------------------------------------------------------------------------
def article_list_for(
    *, user: User, query: str = "", status: str = "", audience: str = "", category: int | None = None
) -> QuerySet[Article]:
    """The articles ``user`` reads, filtered. Requesters get their language when articles in it exist."""
    articles = Article.objects.restrict(user, "view").select_related("owner", "team")
    if not user.is_agent:
        articles = reader_language(user=user, articles=articles)
    if status in ArticleStatus.values:
        articles = articles.filter(status=status)
    if audience in Audience.values:
        articles = articles.filter(audience=audience)
    if category:
        articles = articles.filter(categories=category)
    terms = matching.query_words(query)
    if terms:
        articles = articles.filter(_any_word(terms, ("title__icontains", "body__icontains")))
    return articles


def reader_language(*, user: User, articles: QuerySet[Article]) -> QuerySet[Article]:
    """A requester's articles in their language preference, or all when none is written in it."""
    language = (getattr(user, "language", "") or "").strip()
    if not language:
        return articles
    in_language = articles.filter(language__iexact=language)
    return in_language if in_language.exists() else articles


def article_get_for(*, user: User, pk: Any, action: str = "view") -> Article:
    """One article the user may see (or act on); Article.DoesNotExist otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Article.DoesNotExist from None
    return Article.objects.restrict(user, action).select_related("owner", "team", "problem").get(pk=pk)


def article_versions(*, article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("author").order_by("-number")


def _any_word(terms: list[str], lookups: tuple[str, ...]) -> Q:
    return reduce(or_, (Q(**{lookup: term}) for term in terms for lookup in lookups))


# --- suggestions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    article: Article
    score: float
    excerpt: str
    snippet_html: str = ""  # the full-text engine's passage, escaped, with <mark> only
    source: str = "words"  # "fulltext" or "words" (the word-overlap fallback)


def fulltext_hits(
    *, user: User, query: str, kind: str, statuses: tuple[str, ...] = (), limit: int = MAX_PAGE_SIZE
) -> list[SearchHit] | None:
    """The global search's best matches of one kind that ``user`` may see, for a typed query.

    The query is reduced to its meaningful words first (matching.fulltext_query). Returns None
    when the engine failed (logged; the caller falls back to word overlap), [] when nothing
    matched. A failure never breaks the surrounding transaction (a savepoint wraps the search).
    """
    text = matching.fulltext_query(query)
    if not text:
        return []
    try:
        with transaction.atomic():
            results = search_documents(
                user=user,
                query=text,
                kinds=(kind,),
                statuses=statuses,
                page_size=min(limit, MAX_PAGE_SIZE),
                count_other_kinds=False,
            )
    except Exception:  # the engine's SQL, a missing index table…: suggestions must still answer
        logger.exception("full-text search for %s suggestions failed; using word overlap", kind)
        return None
    return [hit for hit in results.hits if hit.kind == kind]


def article_score(terms: list[str], article: Article, *, typing: bool = False) -> int:
    title_words = set(matching.words(article.title))
    tag_words = set(matching.words(" ".join(str(tag) for tag in article.tags or [])))
    body_words = set(matching.words(article.body))
    return (
        TITLE_WEIGHT * matching.overlap(terms, title_words, prefix_last=typing)
        + TAG_WEIGHT * matching.overlap(terms, tag_words, prefix_last=typing)
        + BODY_WEIGHT * matching.overlap(terms, body_words, prefix_last=typing)
    )


def excerpt(article: Article, length: int = 160) -> str:
    text = " ".join(line.strip("#>*-` ") for line in (article.body or "").splitlines() if line.strip())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


SUGGESTION_FIELDS = (
    "id",
    "title",
    "body",
    "tags",
    "audience",
    "helpful_count",
    "not_helpful_count",
    "resolved_count",
)


def suggest_articles(
    *,
    user: User,
    query: str,
    limit: int = SUGGESTION_LIMIT,
    typing: bool = True,
    public_only: bool = False,
    exclude: Collection[int] = (),
) -> list[Suggestion]:
    """Published articles the user may read that match ``query``, best first.

    The full-text search ranks them (stemming, the last word as a prefix, "quoted phrases");
    when it finds nothing or fails, plain word overlap over the restricted articles answers.
    Any input is safe: it is reduced to plain words (no syntax), bounded in length and count.
    ``public_only`` keeps to public articles (the portal's deflection, whoever types);
    ``exclude`` leaves these article ids out (those already linked to a ticket).
    """
    articles = Article.objects.restrict(user, "view").filter(status=ArticleStatus.PUBLISHED)
    if exclude:
        articles = articles.exclude(pk__in=exclude)
    if public_only or not user.is_agent:
        articles = articles.filter(audience=Audience.PUBLIC)
    if not user.is_agent:
        articles = reader_language(user=user, articles=articles)
    # As many matches as are shown (and excluded): each costs a highlighted snippet, a
    # millisecond on PostgreSQL. Only when the language or the audience leave fewer than
    # ``limit`` of a full page are more asked for.
    asked = min(limit + len(exclude), MAX_PAGE_SIZE)
    while True:
        hits = fulltext_hits(
            user=user, query=query, kind="article", statuses=(ArticleStatus.PUBLISHED,), limit=asked
        )
        if not hits:
            break
        # The search is restricted like the articles; this also keeps to public/language.
        found = articles.filter(pk__in=[hit.obj.pk for hit in hits]).only(*SUGGESTION_FIELDS).in_bulk()
        suggestions = [
            Suggestion(
                article=found[hit.obj.pk],
                score=hit.rank,
                excerpt=excerpt(found[hit.obj.pk]),
                snippet_html=hit.snippet_html,
                source="fulltext",
            )
            for hit in hits
            if hit.obj.pk in found
        ]
        if len(suggestions) >= limit or len(hits) < asked or asked == MAX_PAGE_SIZE:
            if suggestions:
                return suggestions[:limit]
            break
        asked = MAX_PAGE_SIZE
    return _overlap_suggestions(articles=articles, query=query, limit=limit, typing=typing)


def _overlap_suggestions(
    *, articles: QuerySet[Article], query: str, limit: int, typing: bool
) -> list[Suggestion]:
    terms = matching.query_words(query)
    if not terms:
        return []
    candidates = articles.filter(
        _any_word(terms, ("title__icontains", "body__icontains", "tags__icontains"))
    ).only(*SUGGESTION_FIELDS)
    scored = []
    for article in candidates.order_by("-resolved_count", "-id")[:CANDIDATE_LIMIT]:
        score = article_score(terms, article, typing=typing)
        if score:
            scored.append(Suggestion(article=article, score=score, excerpt=excerpt(article)))
    # Ties go to the articles that resolved more tickets, then to the newer.
    scored.sort(key=lambda hit: (-hit.score, -hit.article.resolved_count, -hit.article.pk))
    return scored[:limit]


def ticket_articles(*, user: User, ticket: Ticket) -> QuerySet[TicketArticle]:
    """The articles linked to ``ticket`` that ``user`` may see (requesters: public, published)."""
    return (
        TicketArticle.objects.restrict(user, "view")
        .filter(ticket=ticket, article__in=Article.objects.restrict(user, "view"))
        .select_related("article", "linked_by")
    )


def similar_resolved_tickets(
    *, user: User, ticket: Ticket, limit: int = SIMILAR_TICKET_LIMIT
) -> list[Ticket]:
    """Resolved or closed tickets the user sees that match the ticket's title, best first.

    The full-text search ranks them; when it finds nothing or fails, tickets sharing title
    words or the category answer instead.
    """
    hits = fulltext_hits(
        user=user, query=ticket.title, kind="ticket", statuses=RESOLVED_STATUSES, limit=limit + 1
    )
    if hits:
        return [hit.obj for hit in hits if hit.obj.pk != ticket.pk][:limit]
    return _overlap_tickets(user=user, ticket=ticket, limit=limit)


def _overlap_tickets(*, user: User, ticket: Ticket, limit: int) -> list[Ticket]:
    terms = matching.query_words(ticket.title)
    condition = Q(category_id=ticket.category_id) if ticket.category_id else Q()
    if terms:
        condition |= _any_word(terms, ("title__icontains",))
    if not condition:
        return []
    candidates = (
        Ticket.objects.restrict(user, "view")
        .filter(condition, status__in=RESOLVED_STATUSES)
        .exclude(pk=ticket.pk)
        .only("id", "number", "title", "category_id", "status", "resolved_at", "resolution_notes")
        .order_by("-id")[:CANDIDATE_LIMIT]
    )
    scored = []
    for other in candidates:
        score = 2 * matching.overlap(terms, set(matching.words(other.title)))
        if ticket.category_id and other.category_id == ticket.category_id:
            score += 1
        if score:
            scored.append((score, other.pk, other))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return [other for _, _, other in scored[:limit]]


# --- versions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffRow:
    kind: str  # "same", "changed", "added", "removed", "gap"
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def version_diff_rows(*, old: ArticleVersion, new: ArticleVersion) -> list[DiffRow]:
    """Side-by-side rows (title first, then the body) with a few lines of context around changes.

    The text is escaped here; the template marks nothing safe that came from an editor.
    """
    left = [f"# {old.title}", "", *old.body.splitlines()]
    right = [f"# {new.title}", "", *new.body.splitlines()]
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for group in matcher.get_grouped_opcodes(DIFF_CONTEXT_LINES):
        if rows:
            rows.append(DiffRow("gap", None, "…", None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for offset in range(i2 - i1):
                    rows.append(
                        DiffRow(
                            "same",
                            i1 + offset + 1,
                            escape(left[i1 + offset]),
                            j1 + offset + 1,
                            escape(right[j1 + offset]),
                        )
                    )
                continue
            span = max(i2 - i1, j2 - j1)
            for offset in range(span):
                has_left, has_right = i1 + offset < i2, j1 + offset < j2
                kind = "changed" if has_left and has_right else "removed" if has_left else "added"
                rows.append(
                    DiffRow(
                        kind,
                        i1 + offset + 1 if has_left else None,
                        escape(left[i1 + offset]) if has_left else "",
                        j1 + offset + 1 if has_right else None,
                        escape(right[j1 + offset]) if has_right else "",
                    )
                )
    return rows


def version_unified_diff(*, old: ArticleVersion, new: ArticleVersion) -> str:
    """The same change as a unified diff (plain text; escape it before showing it as HTML)."""
    return "\n".join(
        difflib.unified_diff(
            [f"# {old.title}", "", *old.body.splitlines()],
            [f"# {new.title}", "", *new.body.splitlines()],
            fromfile=f"version {old.number}",
            tofile=f"version {new.number}",
            lineterm="",
            n=DIFF_CONTEXT_LINES,
        )
    )


# --- review and gaps ------------------------------------------------------------------------
def articles_needing_review(*, user: User, today=None) -> QuerySet[Article]:
    """Published articles the user sees whose review-by date has passed, oldest first."""
    today = today or timezone.localdate()
    return (
        Article.objects.restrict(user, "view")
        .filter(status=ArticleStatus.PUBLISHED, review_by__lt=today)
        .select_related("owner")
        .order_by("review_by", "id")
    )


@dataclass(frozen=True)
class CategoryGap:
    category: Category
    tickets: int


@dataclass(frozen=True)
class WordGap:
    word: str
    tickets: int


@dataclass(frozen=True)
class GapsReport:
    since: Any
    ticket_total: int
    categories: list[CategoryGap]
    words: list[WordGap]
    poor_articles: list[Article]


def knowledge_gaps(
    *,
    user: User,
    days: int = GAP_DAYS,
    min_tickets: int = GAP_MIN_TICKETS,
    now=None,
) -> GapsReport:
    """Where tickets pile up without an article, and which articles people find unhelpful.

    Tickets are the ones the user sees, raised in the last ``days``. A category is a gap when
    it has at least ``min_tickets`` tickets and no published article; a word when that many
    ticket titles contain it and no published article's title, tags or text does.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    tickets = Ticket.objects.restrict(user, "view").filter(created_at__gte=since)
    published = Article.objects.restrict(user, "view").filter(status=ArticleStatus.PUBLISHED)
    covered = set(published.values_list("categories", flat=True))
    per_category = (
        tickets.exclude(category=None)
        .values("category")
        .annotate(total=Count("id"))
        .filter(total__gte=min_tickets)
        .order_by("-total")
    )
    counts = {row["category"]: row["total"] for row in per_category if row["category"] not in covered}
    categories = Category.objects.select_related("parent").in_bulk(list(counts))
    category_gaps = [CategoryGap(categories[pk], total) for pk, total in counts.items() if pk in categories]

    word_counts: Counter[str] = Counter()
    titles = tickets.order_by("-id").values_list("title", flat=True)[:GAP_TITLE_SAMPLE]
    for title in titles:
        word_counts.update(matching.words(title))
    word_gaps = []
    for word, total in word_counts.most_common():
        if total < min_tickets or len(word_gaps) >= GAP_WORD_LIMIT:
            break
        if not published.filter(
            _any_word([word], ("title__icontains", "tags__icontains", "body__icontains"))
        ).exists():
            word_gaps.append(WordGap(word, total))

    poor = [
        article
        for article in Article.objects.restrict(user, "view")
        .exclude(status=ArticleStatus.RETIRED)
        .annotate(vote_total=F("helpful_count") + F("not_helpful_count"))
        .filter(vote_total__gte=POOR_FEEDBACK_MIN_VOTES)
        .select_related("owner")
        .order_by("id")
        if (article.helpful_ratio or 0) < POOR_FEEDBACK_RATIO
    ]
    return GapsReport(
        since=since,
        ticket_total=tickets.count(),
        categories=category_gaps,
        words=word_gaps,
        poor_articles=sorted(poor, key=lambda article: (article.helpful_ratio or 0, -article.votes)),
    )
