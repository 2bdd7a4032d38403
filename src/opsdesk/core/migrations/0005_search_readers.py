"""Search documents say who may read them: ``readers``, keys such as ``u12`` (a user) or ``o3``
(an organisation), for kinds whose readers are a small part of everybody (a requester's
tickets). A search then asks the index for the documents carrying one of the reader's keys,
instead of first listing every object id the reader may view (50,000 for a requester whose
organisation shares its tickets). The app that owns the kind fills the keys of its existing
documents (tickets 0010).

SQLite: the keys are tokens of the FTS5 ``search_scope`` column (``zru12 zro3``, stored so),
next to the kind and visibility tokens of migration core 0004. PostgreSQL: a ``text[]`` column
with a GIN index."""

import importlib

from django.db import migrations

tokens = importlib.import_module("opsdesk.core.migrations.0004_search_scope_tokens")

SCOPE_EXPRESSION = f"{tokens.SCOPE_EXPRESSION} || ' ' || readers"
DROP_FTS = [
    "DROP TRIGGER IF EXISTS core_searchdocument_ai",
    "DROP TRIGGER IF EXISTS core_searchdocument_ad",
    "DROP TRIGGER IF EXISTS core_searchdocument_au",
    "DROP TABLE IF EXISTS core_searchdocument_fts",
]
FTS_COLUMNS = ("title", "body", "search_scope")

FORWARD = {
    "sqlite": [
        *DROP_FTS,
        "ALTER TABLE core_searchdocument DROP COLUMN search_scope",
        "ALTER TABLE core_searchdocument ADD COLUMN readers TEXT NOT NULL DEFAULT ''",
        f"ALTER TABLE core_searchdocument ADD COLUMN search_scope TEXT GENERATED ALWAYS AS ({SCOPE_EXPRESSION}) VIRTUAL",
        *tokens._sqlite(FTS_COLUMNS, "title, body, kind, private, has_private, readers"),
    ],
    "postgresql": [
        "ALTER TABLE core_searchdocument ADD COLUMN readers TEXT[] NOT NULL DEFAULT '{}'",
        "CREATE INDEX core_searchdocument_readers ON core_searchdocument USING GIN (readers)",
    ],
}
BACKWARD = {
    "sqlite": [
        *DROP_FTS,
        "ALTER TABLE core_searchdocument DROP COLUMN search_scope",
        "ALTER TABLE core_searchdocument DROP COLUMN readers",
        f"ALTER TABLE core_searchdocument ADD COLUMN search_scope TEXT GENERATED ALWAYS AS ({tokens.SCOPE_EXPRESSION}) VIRTUAL",
        *tokens._sqlite(FTS_COLUMNS, "title, body, kind, private, has_private"),
    ],
    "postgresql": [
        "DROP INDEX IF EXISTS core_searchdocument_readers",
        "ALTER TABLE core_searchdocument DROP COLUMN readers",
    ],
}


def forward(apps, schema_editor):
    for statement in FORWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_search_scope_tokens")]

    operations = [migrations.RunPython(forward, backward)]
