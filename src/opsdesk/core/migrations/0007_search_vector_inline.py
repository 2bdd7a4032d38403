"""PostgreSQL: a document's tsvector stays in its row (``STORAGE MAIN``), and the text moves out.

A row over about 2 kB is made smaller by TOAST, which takes the largest value out of the row
first: for an article (1.5 kB of text, a 1.7 kB vector) that was the vector. Every match then
tested a row's vector through the TOAST table's index and chunks: a walk through an article's
newest 25,000 documents took 57 ms, 19 ms with the vectors in the rows, and a phrase checked
through the GIN index 80 ms against 40 (100,000 articles). The body, read only for the page's
snippets, goes out instead. Existing rows are rewritten to follow (``VACUUM FULL``, which
locks the table while it runs: seconds for 100,000 documents, a few minutes for a million).
SQLite keeps its documents in one row whatever their size and needs none of this."""

from django.db import migrations

FORWARD = [
    "ALTER TABLE core_searchdocument ALTER COLUMN search_vector SET STORAGE MAIN",
    "VACUUM FULL core_searchdocument",
]
BACKWARD = [
    "ALTER TABLE core_searchdocument ALTER COLUMN search_vector SET STORAGE EXTENDED",
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
    # VACUUM cannot run inside a transaction.
    atomic = False

    dependencies = [("core", "0006_search_reader_table")]

    operations = [migrations.RunPython(forward, backward, atomic=False)]
