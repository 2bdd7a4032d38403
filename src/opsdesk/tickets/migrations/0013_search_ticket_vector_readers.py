"""PostgreSQL: the tickets' GIN index of words, with their readers beside them.

A requester whose organisation shares its tickets searches 50,000 of a million. When the walk
of their own tickets could not fill the page (a rare word), the tickets' words (tickets 0011)
and the readers' keys (core 0006) were read from two GIN indexes, a bitmap built of each and
the two intersected: the readers' bitmap alone, 50,000 entries, cost 10-14 ms however few
tickets held the word ('consolidate': 15 ms for 76 rows). With both columns in one index, GIN
intersects them as it reads and hands out only the tickets holding the word that the reader
may read: 1.1 ms. A search without readers (an agent's) reads the words alone from it as fast
as from the index it replaces (a multicolumn GIN index serves any of its columns); 209 MB and
33 s to build at a million tickets, as the index of words alone.

Built CONCURRENTLY (so outside a transaction): tickets can be written while it is built; the
index of words alone is dropped once it is. A build that fails leaves an invalid index behind:
drop it and migrate again."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_ticket_vector_readers ON core_searchdocument"
    " USING gin (search_vector, readers) WHERE kind >= 'ticket' AND kind <= 'ticket'",
    "DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_ticket_vector",
]
BACKWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_ticket_vector ON core_searchdocument"
    " USING gin (search_vector) WHERE kind >= 'ticket' AND kind <= 'ticket'",
    "DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_ticket_vector_readers",
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
    dependencies = [("tickets", "0012_search_ticket_word_pairs")]

    operations = [migrations.RunPython(forward, backward)]
