"""SQLite: the articles' own FTS5 index (``core_searchdocument_fts_article``), beside the index of
every kind.

bm25 works out each term's IDF by reading every document of the index that holds it, whatever
the candidates: ranking the newest 1,000 articles matching "adding*" read its matches among a
million tickets too (19 ms of a statement that ranks the candidates in 2), '"please action"'
22 ms. In the articles' own index the same costs 5 and 8 ms, and the IDF is the articles' own,
which is what their order should follow. The engine searches and ranks a kind in
``core_searchdocument_fts_<kind>`` when there is one (``SQLiteEngine._table``); the index of
every kind still holds the articles (a search of several kinds, the bare engine query).

It is an external-content FTS5 table over a view of the articles' documents, kept by triggers
on the documents that act on articles only; built once from the view (23 s at 100,000
articles among 1.1 million documents). The view reads ``search_scope``: a later migration
that drops that column drops the view and the triggers first (``DROP``) and builds them again
(``create``). PostgreSQL has the articles' own GIN index (knowledge 0003) and needs none of
this."""

import importlib

from django.db import migrations

prefixes = importlib.import_module("opsdesk.core.migrations.0008_search_prefixes")

KIND = "article"
VIEW = f"core_searchdocument_{KIND}"
TABLE = f"core_searchdocument_fts_{KIND}"
COLUMNS = "title, body, search_scope"
DROP = [
    f"DROP TRIGGER IF EXISTS {VIEW}_ai",
    f"DROP TRIGGER IF EXISTS {VIEW}_ad",
    f"DROP TRIGGER IF EXISTS {VIEW}_au",
    f"DROP TABLE IF EXISTS {TABLE}",
    f"DROP VIEW IF EXISTS {VIEW}",
]


def create() -> list[str]:
    new = f"new.id, new.title, new.body, new.search_scope WHERE new.kind = '{KIND}'"
    delete_old = (
        f"INSERT INTO {TABLE} ({TABLE}, rowid, {COLUMNS})"
        f" SELECT 'delete', old.id, old.title, old.body, old.search_scope WHERE old.kind = '{KIND}';"
    )
    return [
        *DROP,
        f"CREATE VIEW {VIEW} AS SELECT id, {COLUMNS} FROM core_searchdocument WHERE kind = '{KIND}'",
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5({COLUMNS}, {prefixes.FTS_OPTIONS.replace('core_searchdocument', VIEW)})",
        f"""CREATE TRIGGER {VIEW}_ai AFTER INSERT ON core_searchdocument BEGIN
            INSERT INTO {TABLE} (rowid, {COLUMNS}) SELECT {new};
        END""",
        f"""CREATE TRIGGER {VIEW}_ad AFTER DELETE ON core_searchdocument BEGIN
            {delete_old}
        END""",
        f"""CREATE TRIGGER {VIEW}_au AFTER UPDATE OF {prefixes.UPDATE_OF} ON core_searchdocument BEGIN
            {delete_old}
            INSERT INTO {TABLE} (rowid, {COLUMNS}) SELECT {new};
        END""",
        f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')",
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in create():
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0004_article_word_pairs_index"),
        ("core", "0013_search_scope_joint_tokens"),
    ]

    operations = [migrations.RunPython(forward, backward)]
