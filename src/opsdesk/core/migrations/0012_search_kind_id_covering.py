"""PostgreSQL: the (kind, id) index of search documents carries the variant columns too.

A kind's walk (PostgresEngine._newest_matches) that did not fill the page asks where its probe
ended: the ids of the kind's newest 5,000 documents in the reader's variant (``private``,
``has_private``). Those columns were read from the table, row by row: 2.2 ms of an article
search's 17 (100,000 articles), 1.4 of an agent's ticket search. Carried in the index
(``INCLUDE``), they are read from it alone, an index-only scan: 0.9 ms and 1.0. The walks
themselves read the same index as before.

Built CONCURRENTLY (so outside a transaction), 4 s at a million documents; the index it
replaces (core 0004) is dropped once it is. A build that fails leaves an invalid index behind:
drop it and migrate again. SQLite searches through FTS5 and has neither index."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_kind_id_variant ON core_searchdocument"
    " (kind, id) INCLUDE (private, has_private)",
    "DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_kind_id",
]
BACKWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_kind_id ON core_searchdocument (kind, id)",
    "DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_kind_id_variant",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("core", "0011_search_word_pairs")]

    operations = [migrations.RunPython(forward, backward)]
