"""PostgreSQL: the tickets' index of word beginnings (see core 0014), with their readers.

A requester whose organisation shares its tickets searches 50,000 of a million; when the walk
of their tickets can't fill the page, the rest comes from the tickets' GIN index of words and
readers (tickets 0013), which gathers every word a prefix begins first: 'start':* and the
organisation, 25 ms in the index for 4,927 tickets. Each beginning is one entry here,
intersected with the readers as GIN reads them: 4 ms. The engine reads a reader's matches
through it for a query with a prefix of six letters at most and no phrase
(``PostgresEngine._prefix_hit``), when an index named ``core_searchdocument_<kind>_prefixes_readers``
is there and valid, so the condition is written as the engine writes a kind. An agent's search
(no readers) keeps the index of words: a range of ids narrows its reads there, and the
beginnings hand out more than the words match. 258 MB at a million tickets, 97 s to build.

Built CONCURRENTLY (so outside a transaction): tickets can be written while it is built. A
build that fails leaves an invalid index behind, which the engine does not use: drop it and
migrate again."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_ticket_prefixes_readers"
    " ON core_searchdocument USING gin (opsdesk_word_prefixes(search_vector), readers) WHERE kind >= 'ticket' AND kind <= 'ticket'",
]
BACKWARD = ["DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_ticket_prefixes_readers"]


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
