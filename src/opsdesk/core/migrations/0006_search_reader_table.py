"""PostgreSQL: the reader keys of migration core 0005 also as rows, ``(key, document_id)``, kept
by a trigger from ``core_searchdocument.readers``. Their primary key hands out one reader's
documents newest first, so a search walks a requester's tickets (500, or an organisation's
50,000) rather than the whole kind, one in twenty of whose rows they may read. (The GIN index
on ``readers`` answers "which of these rows may they read" for the rare words, but in no
order, and every document it returns is read from the table.) SQLite matches the keys as
tokens of its FTS index and needs none of this."""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE TABLE core_searchreader (
        key VARCHAR(64) NOT NULL,
        document_id BIGINT NOT NULL REFERENCES core_searchdocument (id) ON DELETE CASCADE,
        PRIMARY KEY (key, document_id)
    )
    """,
    "CREATE INDEX core_searchreader_document ON core_searchreader (document_id)",
    """
    CREATE FUNCTION core_searchdocument_readers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.readers = OLD.readers THEN
                RETURN NULL;
            END IF;
            DELETE FROM core_searchreader WHERE document_id = NEW.id;
        END IF;
        INSERT INTO core_searchreader (key, document_id)
            SELECT DISTINCT key, NEW.id FROM unnest(NEW.readers) AS key;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER core_searchdocument_readers AFTER INSERT OR UPDATE OF readers
    ON core_searchdocument FOR EACH ROW EXECUTE FUNCTION core_searchdocument_readers()
    """,
    """
    INSERT INTO core_searchreader (key, document_id)
        SELECT DISTINCT key, d.id FROM core_searchdocument d, unnest(d.readers) AS key
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS core_searchdocument_readers ON core_searchdocument",
    "DROP FUNCTION IF EXISTS core_searchdocument_readers()",
    "DROP TABLE IF EXISTS core_searchreader",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_search_readers")]

    operations = [migrations.RunPython(forward, backward)]
