"""PostgreSQL: the tickets' index of word pairs (see core 0011), for phrases.

Through the tickets' index of words (tickets 0011), a phrase of common words read every ticket
holding both: '"please action"' 30,000-60,000 of a million, 160-360 ms. Through their pairs it
reads those where the two stand side by side. 427 MB at a million tickets (twice their index
of words: a ticket has about as many pairs as words, and pairs are rarer, so less compressed),
82 s to build. The engine uses a kind's pairs when an index named
``core_searchdocument_<kind>_word_pairs`` is there and valid (PostgresEngine._phrase_hit), so
the condition is written as the engine writes a kind.

Built CONCURRENTLY (so outside a transaction): tickets can be written while it is built. A
build that fails leaves an invalid index behind, which the engine does not use: drop it and
migrate again."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS core_searchdocument_ticket_word_pairs ON core_searchdocument"
    " USING gin (opsdesk_word_pairs(search_vector)) WHERE kind >= 'ticket' AND kind <= 'ticket'",
]
BACKWARD = ["DROP INDEX CONCURRENTLY IF EXISTS core_searchdocument_ticket_word_pairs"]


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
    dependencies = [("tickets", "0011_search_ticket_vector"), ("core", "0011_search_word_pairs")]

    operations = [migrations.RunPython(forward, backward)]
