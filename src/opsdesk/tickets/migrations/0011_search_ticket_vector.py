"""PostgreSQL: the tickets' own GIN index of words.

Tickets are nine in ten of the search documents. Through the GIN index of every kind, a ticket
search that the walk could not fill read each word's matches in all kinds, the articles' long
texts included, and tested every one of those rows for the kind: for a phrase of common words
('"ad access"', a million tickets beside 100,000 articles) 12,000 of the 40,000 rows it read
were articles. Their own index holds their words only (188 MB; 32 s to build at a million):
the agent's ticket searches p95 238–308 → 218–230 ms, an organisation's 230 → 216. The
condition is written as the engine writes a kind (see knowledge 0003). The index of every kind
stays: the other kinds (problems, services…) and the bare query go through it.

Built CONCURRENTLY (so outside a transaction): tickets can be written while it is built. A
build that fails leaves an invalid index behind: drop it and migrate again."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_ticket_vector ON core_searchdocument"
    " USING gin (search_vector) WHERE kind >= 'ticket' AND kind <= 'ticket'",
]
BACKWARD = ["DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_ticket_vector"]


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
    dependencies = [("tickets", "0010_search_readers"), ("core", "0010_search_kind_status_statistics")]

    operations = [migrations.RunPython(forward, backward)]
