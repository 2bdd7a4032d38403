"""The full-text search index: one table of documents (what the search box finds) and the
engine's own index over it — an FTS5 virtual table on SQLite, a generated tsvector column with
a GIN index on PostgreSQL. Raw SQL because neither structure is a Django model; the documents
are written and read by opsdesk.core.fulltext only, and rebuilt by ``search_reindex``."""

from django.db import migrations

SQLITE = [
    """
    CREATE TABLE core_searchdocument (
        id INTEGER PRIMARY KEY,
        kind VARCHAR(50) NOT NULL,
        object_id BIGINT NOT NULL,
        private BOOL NOT NULL DEFAULT 0,
        has_private BOOL NOT NULL DEFAULT 0,
        status VARCHAR(40) NOT NULL DEFAULT '',
        service_id BIGINT NULL,
        created_at DATETIME NULL,
        title TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        indexed_at DATETIME NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX core_searchdocument_object ON core_searchdocument (kind, object_id, private)",
    "CREATE INDEX core_searchdocument_kind_created ON core_searchdocument (kind, created_at)",
    # External-content FTS5: the text lives once, in core_searchdocument; triggers keep the
    # index in step inside the writing transaction. Porter stemming, accents folded, prefix
    # indexes for 2- and 3-letter prefixes (search as you type).
    """
    CREATE VIRTUAL TABLE core_searchdocument_fts USING fts5(
        title, body,
        content='core_searchdocument', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2',
        prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER core_searchdocument_ai AFTER INSERT ON core_searchdocument BEGIN
        INSERT INTO core_searchdocument_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    """
    CREATE TRIGGER core_searchdocument_ad AFTER DELETE ON core_searchdocument BEGIN
        INSERT INTO core_searchdocument_fts (core_searchdocument_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END
    """,
    """
    CREATE TRIGGER core_searchdocument_au AFTER UPDATE OF title, body ON core_searchdocument BEGIN
        INSERT INTO core_searchdocument_fts (core_searchdocument_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO core_searchdocument_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
]

POSTGRESQL = [
    """
    CREATE TABLE core_searchdocument (
        id BIGSERIAL PRIMARY KEY,
        kind VARCHAR(50) NOT NULL,
        object_id BIGINT NOT NULL,
        private BOOLEAN NOT NULL DEFAULT FALSE,
        has_private BOOLEAN NOT NULL DEFAULT FALSE,
        status VARCHAR(40) NOT NULL DEFAULT '',
        service_id BIGINT NULL,
        created_at TIMESTAMPTZ NULL,
        title TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        indexed_at TIMESTAMPTZ NOT NULL,
        search_vector TSVECTOR GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, title), 'A')
            || setweight(to_tsvector('english'::regconfig, body), 'B')
        ) STORED
    )
    """,
    "CREATE UNIQUE INDEX core_searchdocument_object ON core_searchdocument (kind, object_id, private)",
    "CREATE INDEX core_searchdocument_kind_created ON core_searchdocument (kind, created_at)",
    "CREATE INDEX core_searchdocument_vector ON core_searchdocument USING GIN (search_vector)",
]

DROP = {
    "sqlite": ["DROP TABLE IF EXISTS core_searchdocument_fts", "DROP TABLE IF EXISTS core_searchdocument"],
    "postgresql": ["DROP TABLE IF EXISTS core_searchdocument"],
}


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor)
    if statements is None:
        raise RuntimeError(f"OpsDesk search supports SQLite and PostgreSQL, not {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_alter_auditentry_channel")]

    operations = [migrations.RunPython(create_index, drop_index)]
