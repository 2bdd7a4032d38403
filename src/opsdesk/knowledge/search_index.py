"""The knowledge base in the global search: articles by title and text, through the same
restricted querysets as every other search target (a requester finds public articles only)."""

from __future__ import annotations

from opsdesk.core.search import register_search
from opsdesk.knowledge.models import Article


def describe_article(article: Article) -> str:
    return f"{article.number} {article.title}"


def register() -> None:
    register_search(
        Article,
        fields=("title", "body"),
        label="Article",
        kind="article",
        describe=describe_article,
        title=describe_article,
        body=lambda article: "\n".join([article.body, " ".join(article.tags or [])]),
    )
