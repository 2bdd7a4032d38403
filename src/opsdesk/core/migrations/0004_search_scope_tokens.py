"""SQLite: the FTS5 index also holds each document's kind and visibility as tokens (a third
column, ``search_scope``, generated from ``kind``, ``private`` and ``has_private``), so a search
of one kind walks only that kind's matches: FTS5 intersects the user's words with the kind's
token inside the index instead of handing out every match to be joined and dropped. Without it,
counting the services that match a word common in a million tickets walked the million.

Tokens: ``zk<kind>``; ``zvpublic`` on what readers of public text match (not a private
variant), ``zvprivate`` on what readers of private text match (a private variant, or a record
without one). They are an accelerator only: the SQL conditions on kind and privacy stay.

PostgreSQL: an index on (kind, id) lets the planner walk one kind's documents newest first
(what the rank window asks for) when a word is too common for the GIN index to pay."""

from django.db import migrations

SCOPE_EXPRESSION = (
    "'zk' || kind || ' ' || CASE WHEN private THEN 'zvprivate'"
    " WHEN has_private THEN 'zvpublic' ELSE 'zvpublic zvprivate' END"
)

FTS_OPTIONS = """
    content='core_searchdocument', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2',
    prefix='2 3'
"""


def _sqlite(columns: tuple[str, ...], update_of: str, options: str = FTS_OPTIONS) -> list[str]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        "DROP TRIGGER IF EXISTS core_searchdocument_ai",
        "DROP TRIGGER IF EXISTS core_searchdocument_ad",
        "DROP TRIGGER IF EXISTS core_searchdocument_au",
        "DROP TABLE IF EXISTS core_searchdocument_fts",
        f"CREATE VIRTUAL TABLE core_searchdocument_fts USING fts5({names}, {options})",
        f"""CREATE TRIGGER core_searchdocument_ai AFTER INSERT ON core_searchdocument BEGIN
            INSERT INTO core_searchdocument_fts (rowid, {names}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER core_searchdocument_ad AFTER DELETE ON core_searchdocument BEGIN
            INSERT INTO core_searchdocument_fts (core_searchdocument_fts, rowid, {names})
            VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER core_searchdocument_au AFTER UPDATE OF {update_of} ON core_searchdocument BEGIN
            INSERT INTO core_searchdocument_fts (core_searchdocument_fts, rowid, {names})
            VALUES ('delete', old.id, {old});
            INSERT INTO core_searchdocument_fts (rowid, {names}) VALUES (new.id, {new});
        END""",
        "INSERT INTO core_searchdocument_fts (core_searchdocument_fts) VALUES ('rebuild')",
    ]


FORWARD = {
    "sqlite": [
        f"ALTER TABLE core_searchdocument ADD COLUMN search_scope TEXT GENERATED ALWAYS AS ({SCOPE_EXPRESSION}) VIRTUAL",
        *_sqlite(("title", "body", "search_scope"), "title, body, kind, private, has_private"),
    ],
    "postgresql": ["CREATE INDEX core_searchdocument_kind_id ON core_searchdocument (kind, id)"],
}
BACKWARD = {
    "sqlite": [
        *_sqlite(("title", "body"), "title, body"),
        "ALTER TABLE core_searchdocument DROP COLUMN search_scope",
    ],
    "postgresql": ["DROP INDEX IF EXISTS core_searchdocument_kind_id"],
}


def forward(apps, schema_editor):
    for statement in FORWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_search_index")]

    operations = [migrations.RunPython(forward, backward)]
