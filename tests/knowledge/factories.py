"""Articles for the knowledge tests, created through the real services."""

from __future__ import annotations

from opsdesk.knowledge import services
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article


def make_article(
    author,
    *,
    title: str = "How to reset your password",
    body: str = "Open the self-service page and choose **Forgot password**.",
    audience: str = Audience.PUBLIC,
    status: str = ArticleStatus.PUBLISHED,
    **fields,
) -> Article:
    article = services.article_create(actor=author, title=title, body=body, audience=audience, **fields)
    if status in (ArticleStatus.PUBLISHED, ArticleStatus.RETIRED):
        article = services.article_transition(actor=author, article=article, to=ArticleStatus.PUBLISHED)
    if status == ArticleStatus.RETIRED:
        article = services.article_transition(actor=author, article=article, to=ArticleStatus.RETIRED)
    if status == ArticleStatus.IN_REVIEW:
        article = services.article_transition(actor=author, article=article, to=ArticleStatus.IN_REVIEW)
    article.refresh_from_db()
    return article
