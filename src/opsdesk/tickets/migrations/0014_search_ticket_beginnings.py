"""PostgreSQL: the tickets' index of word beginnings and id buckets (see core 0014), with their
readers.

When the walk of a search can't fill the page, the rest comes from a GIN index. The tickets'
index of words and readers (tickets 0013) gathers every word a prefix begins first: 'start':*
and one organisation, 25 ms in the index for 4,927 tickets. Each beginning is one entry here,
intersected with the readers as GIN reads them: 4 ms. And every match it hands out is read
from the table to find the newest: a range of ids, where the matches wanted should lie, came
from the primary key's bitmap (0.04 µs an id: 12 ms for the 312,000 ids of 'stage', so it was
rarely worth it and all 8,426 matches were read); here a bucket of 16,384 ids is one entry, and
the range a few of them. The engine reads a query with a prefix of six letters at most and no
phrase through it (``PostgresEngine._reads_beginnings``), when an index named
``core_searchdocument_<kind>_beginnings`` is there and valid, so the condition is written as the
engine writes a kind. 345 MB at a million tickets, 3 minutes to build concurrently.

Built CONCURRENTLY (so outside a transaction): tickets can be written while it is built. A
build that fails leaves an invalid index behind, which the engine does not use: drop it and
migrate again."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_ticket_beginnings ON core_searchdocument"
    " USING gin (opsdesk_search_beginnings(search_vector, id), readers)"
    " WHERE kind >= 'ticket' AND kind <= 'ticket'",
]
BACKWARD = ["DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_ticket_beginnings"]


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
    dependencies = [("tickets", "0013_search_ticket_vector_readers"), ("core", "0014_search_word_prefixes")]

    operations = [migrations.RunPython(forward, backward)]
