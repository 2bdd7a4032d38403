"""The knowledge base in the global search: articles by title and text, through the same
permission rule as every other search target (a requester finds published public articles
only). Each article's document names its readers (``article_readers``), so a search asks the
index for the articles a reader may read instead of first listing their ids (100,000 of them in
a large knowledge base)."""

from __future__ import annotations

from opsdesk.core.search import register_search
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article
from opsdesk.knowledge.permissions import PUBLISHED_PUBLIC_KEY, STAFF_KEY, article_reader_keys, team_key


def describe_article(article: Article) -> str:
    return f"{article.number} {article.title}"


def article_readers(article: Article) -> list[str]:
    """Who may read the article, as ``permissions.article_reader_keys`` names them (managers,
    auditors and admins read everything and need no key)."""
    if article.audience == Audience.TEAM:
        return [team_key(article.team_id)] if article.team_id else []
    keys = [STAFF_KEY]
    if article.audience == Audience.PUBLIC and article.status == ArticleStatus.PUBLISHED:
        keys.append(PUBLISHED_PUBLIC_KEY)
    return keys


def register() -> None:
    register_search(
        Article,
        fields=("title", "body"),
        label="Article",
        kind="article",
        describe=describe_article,
        title=describe_article,
        body=lambda article: "\n".join([article.body, " ".join(article.tags or [])]),
        readers=article_readers,
        reader_keys=article_reader_keys,
        # A page of hits reads the number (the id) and the title; the suggestions load what
        # they show themselves (selectors.suggest_articles).
        shown_fields=("id", "title"),
    )
