"""PostgreSQL: the articles' own GIN index of words.

Articles are a tenth of the search documents beside a million tickets. Through the GIN index
of every kind, a search of articles read each word's matches in all kinds and intersected
them with the 100,000 articles' rows (a bitmap of the kind index): 71 ms for the phrase
"ad access", of which the index part was most. Their own index holds their words only (33 MB
against 242; 7 s to build at 1.1 million documents): 32 ms. The condition is written as the
engine writes a kind (``kind >= 'article' AND kind <= 'article'``, see
``PostgresEngine._where``) so that the planner knows the index covers the search. SQLite's
FTS5 index already hands out one kind's matches (its kind tokens) and needs none of this."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS core_searchdocument_article_vector ON core_searchdocument"
    " USING gin (search_vector) WHERE kind >= 'article' AND kind <= 'article'",
]
BACKWARD = ["DROP INDEX IF EXISTS core_searchdocument_article_vector"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_readers"), ("core", "0010_search_kind_status_statistics")]

    operations = [migrations.RunPython(forward, backward)]
