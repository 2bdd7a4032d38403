"""SQLite: articles are searched and ranked in their own FTS5 index (knowledge 0005), kept by
triggers as their documents are written, edited and deleted; a search of several kinds merges
what each index ranked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.core.fulltext import engine
from opsdesk.core.search import search_documents
from opsdesk.knowledge import search_index
from opsdesk.knowledge.services import article_update
from opsdesk.tickets import search_index as ticket_search_index
from opsdesk.tickets.services import ticket_create
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sqlite_and_registered():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 indexes (PostgreSQL has the articles' own GIN index)")
    search_index.register()
    ticket_search_index.register()


def article_titles(user, query: str) -> list[str]:
    # Without the article's number ("KB00001 "), which the title shown begins with.
    return [
        hit.title.split(" ", 1)[1]
        for hit in search_documents(user=user, query=query, kinds=("article",), count_other_kinds=False).hits
    ]


def own_index_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM core_searchdocument_fts_article")
        return cursor.fetchone()[0]


def test_an_article_search_reads_and_ranks_the_articles_own_index(people):
    make_article(people.manager, title="Quokka printer jams", body="Open the tray.")
    with CaptureQueriesContext(connection) as queries:
        assert article_titles(people.requester, "quokka") == ["Quokka printer jams"]
    matches = [q["sql"] for q in queries.captured_queries if " MATCH " in q["sql"]]
    assert matches and all("FROM core_searchdocument_fts_article f" in sql for sql in matches)


def test_the_articles_own_index_follows_edits_and_deletes(people):
    article = make_article(people.manager, title="Quokka printer jams", body="Open the tray.")
    assert article_titles(people.requester, "quokka") == ["Quokka printer jams"]
    article_update(actor=people.manager, article=article, data={"title": "Wombat printer jams"})
    assert article_titles(people.requester, "quokka") == []
    assert article_titles(people.requester, "wombat") == ["Wombat printer jams"]
    rows = own_index_rows()
    article.delete()
    assert article_titles(people.requester, "wombat") == []
    assert own_index_rows() == rows - 1


def test_tickets_stay_out_of_the_articles_own_index(people):
    ticket_create(actor=people.requester, title="Quokka stuck in the printer", description="Please help.")
    assert own_index_rows() == 0
    make_article(people.manager, title="Quokka printer jams", body="Open the tray.")
    assert own_index_rows() == 1


def test_kinds_searched_together_are_ranked_together_in_the_index_of_every_kind(people):
    # Scores of different indexes (each with its own IDF) don't compare: the article, the word
    # in its title (weighed ten times), comes before the tickets, the word in their bodies.
    make_article(people.manager, title="Quokka printer jams", body="Open the tray.")
    for n in range(3):
        ticket_create(actor=people.agent, title=f"Printer {n}", description="A quokka in the tray, quokka.")
    with CaptureQueriesContext(connection) as queries:
        results = search_documents(user=people.agent, query="quokka", kinds=("ticket", "article"))
    assert [hit.kind for hit in results.hits] == ["article", "ticket", "ticket", "ticket"]
    ranked = [q["sql"] for q in queries.captured_queries if "bm25(" in q["sql"]]
    assert ranked and all("FROM core_searchdocument_fts f" in sql for sql in ranked)
    pages = [
        search_documents(
            user=people.agent, query="quokka", kinds=("ticket", "article"), page=n, page_size=2
        ).hits
        for n in (1, 2)
    ]
    assert [hit.title for hit in pages[0] + pages[1]] == [hit.title for hit in results.hits]


def test_optimize_merges_every_fts_index(people):
    make_article(people.manager, title="Quokka printer jams", body="Open the tray.")
    engine().optimize()
    assert article_titles(people.requester, "quokka") == ["Quokka printer jams"]
