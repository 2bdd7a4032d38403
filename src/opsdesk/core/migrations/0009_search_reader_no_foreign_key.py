"""PostgreSQL: a document's reader rows (migration core 0006) go with it by a trigger, not a
foreign key.

The foreign key checked every reader row written (two for each ticket) with a query planned
once per connection: planned while the table was nearly empty, it scanned the whole table,
and writing documents in one long connection slowed as the table grew (a benchmark seed fell
from 950 to under 100 documents a second within 30,000; ``reindex`` of a new database would
do the same). The trigger that writes the rows knows the document exists; the one added
here removes them when it goes, as ``ON DELETE CASCADE`` did."""

from django.db import migrations

FORWARD = [
    "ALTER TABLE core_searchreader DROP CONSTRAINT IF EXISTS core_searchreader_document_id_fkey",
    """
    CREATE FUNCTION core_searchdocument_readers_gone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM core_searchreader WHERE document_id = OLD.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER core_searchdocument_readers_gone AFTER DELETE
    ON core_searchdocument FOR EACH ROW EXECUTE FUNCTION core_searchdocument_readers_gone()
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS core_searchdocument_readers_gone ON core_searchdocument",
    "DROP FUNCTION IF EXISTS core_searchdocument_readers_gone()",
    """
    ALTER TABLE core_searchreader ADD CONSTRAINT core_searchreader_document_id_fkey
    FOREIGN KEY (document_id) REFERENCES core_searchdocument (id) ON DELETE CASCADE
    """,
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
    dependencies = [("core", "0008_search_prefixes")]

    operations = [migrations.RunPython(forward, backward)]
