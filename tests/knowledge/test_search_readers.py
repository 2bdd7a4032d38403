"""Article searches are scoped by the reader keys on the documents (``pub``, ``staff``,
``t<team>``) rather than by the permission rule's list of ids: the two must always agree, in
results and in counts, for requesters, agents in and out of a team, and managers, as articles
are published, retired, moved between audiences and teams, and as agents join teams."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from opsdesk.knowledge import search_index
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article
from opsdesk.knowledge.services import article_transition, article_update
from tests import search_scope
from tests.accounts.factories import TeamFactory, TeamMembershipFactory
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db

WORD = "quokka"


@pytest.fixture(autouse=True)
def _articles_registered():
    search_index.register()


def found(user) -> set[int]:
    return search_scope.found(user, kind="article", word=WORD)


def allowed(user) -> set[int]:
    return search_scope.allowed(user, Article, word=WORD)


@pytest.fixture
def shelf(people):
    other_team = TeamFactory(name="Desktop")
    articles = {
        "published": make_article(people.manager, title=f"{WORD} published"),
        "draft": make_article(people.manager, title=f"{WORD} draft", status=ArticleStatus.DRAFT),
        "retired": make_article(people.manager, title=f"{WORD} retired", status=ArticleStatus.RETIRED),
        "internal": make_article(people.manager, title=f"{WORD} internal", audience=Audience.INTERNAL),
        "network": make_article(
            people.manager, title=f"{WORD} network", audience=Audience.TEAM, team=people.network
        ),
        "desktop": make_article(
            people.manager, title=f"{WORD} desktop", audience=Audience.TEAM, team=other_team
        ),
    }
    return articles, other_team


def assert_agree(people) -> None:
    for user in (people.requester, people.agent, people.other_agent, people.manager, people.auditor):
        assert found(user) == allowed(user), user.username


def test_search_scope_is_the_permission_rule(people, shelf):
    articles, _ = shelf
    assert_agree(people)
    # Spelled out once: a requester finds the published public article only; an agent of the
    # network team finds everything but the desktop team's article.
    assert found(people.requester) == {articles["published"].pk}
    assert found(people.agent) == {a.pk for name, a in articles.items() if name != "desktop"}


def test_publishing_retiring_and_moving_articles_change_what_is_found(people, shelf):
    articles, other_team = shelf
    draft = article_transition(actor=people.manager, article=articles["draft"], to=ArticleStatus.PUBLISHED)
    assert draft.pk in found(people.requester)
    article_transition(actor=people.manager, article=articles["published"], to=ArticleStatus.RETIRED)
    assert articles["published"].pk not in found(people.requester)
    internal = Article.objects.get(pk=articles["internal"].pk)
    article_update(actor=people.manager, article=internal, data={"audience": Audience.PUBLIC})
    assert internal.pk in found(people.requester)
    network = Article.objects.get(pk=articles["network"].pk)
    article_update(actor=people.manager, article=network, data={"team": other_team})
    assert network.pk not in found(people.agent)
    assert_agree(people)


def test_an_agent_who_joins_a_team_finds_its_articles(people, shelf):
    articles, other_team = shelf
    assert articles["desktop"].pk not in found(people.other_agent)
    TeamMembershipFactory(team=other_team, user=people.other_agent)
    assert articles["desktop"].pk in found(people.other_agent)  # the reader's side: no reindex
    assert_agree(people)


def test_the_migration_fills_the_keys_of_existing_documents(people, shelf):
    empty = "'{}'" if connection.vendor == "postgresql" else "''"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE core_searchdocument SET readers = {empty} WHERE kind = 'article'")
    assert found(people.requester) == set()  # the keys are what the search goes by

    migration = importlib.import_module("opsdesk.knowledge.migrations.0002_search_readers")
    with connection.cursor() as cursor:
        cursor.execute(migration.STATEMENTS[connection.vendor])
    assert_agree(people)
