"""The demo knowledge base loads through the services, once."""

from __future__ import annotations

import pytest

from opsdesk.knowledge.choices import ArticleStatus
from opsdesk.knowledge.models import Article
from opsdesk.web.demo import knowledge, people

pytestmark = pytest.mark.django_db


def test_demo_articles_load_once_with_every_status():
    admin = people.load_admin()
    people.load_people(admin)
    assert knowledge.load_articles(admin) == len(knowledge.ARTICLES)
    assert knowledge.load_articles(admin) == 0
    statuses = set(Article.objects.values_list("status", flat=True))
    assert statuses == {ArticleStatus.PUBLISHED, ArticleStatus.IN_REVIEW, ArticleStatus.RETIRED}
    assert Article.objects.filter(review_flagged_at__isnull=False).count() == 1
    assert all(article.versions.exists() for article in Article.objects.all())
