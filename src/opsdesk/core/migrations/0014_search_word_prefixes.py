"""PostgreSQL: the word beginnings of a document and of a query, for an index of them.

The last word of every query is a prefix (search as you type), and a GIN index of words
answers a prefix by reading every word it begins, each with all its documents, into one bitmap
before it intersects them with anything: 'start':* in one organisation's tickets read the
entries of 150,000 tickets to keep 4,927 of the organisation's 50,000 (25 ms of a 30 ms
statement). ``opsdesk_word_prefixes`` gives each word's first 3, 4, 5 and 6 letters (as many
as it has) and, for a word longer than that, the word itself; in a GIN index of them (an
expression index, with the readers beside it: tickets 0014) each beginning is one entry, which
GIN intersects with the reader's keys as it reads them: 4 ms.

``opsdesk_query_prefixes`` makes the entries every match of a query holds, ANDed: a prefix
itself, a word too, or, when it is longer than six letters, the word itself. That is a
superset (a short word also begins longer ones), so the engine tests the query itself on what
the index hands out; words and prefixes of fewer than three letters are left out (still a
superset). NULL when none is left, or when a prefix is longer than six letters: its first six
would hand out far more than it matches ('monito' for 'monitori'), and the few words it begins
are soon gathered from the index of words. The lexemes are the query's own, stemmed, read from
its text (``to_tsquery`` stems a prefix too: 'requires':* is 'requir'): every lexeme a query of
ANDed words, prefixes and phrases holds is in each document it matches, so nothing is missed.

SQLite's FTS5 index has prefix indexes of its own (core 0008) and needs none of this."""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION opsdesk_word_prefixes(vector tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT array_to_tsvector(coalesce(array_agg(DISTINCT entry), '{}'))
        FROM unnest(tsvector_to_array(vector)) AS lexeme
        CROSS JOIN LATERAL (
            SELECT left(lexeme, n) FROM generate_series(3, least(length(lexeme), 6)) AS n
            UNION ALL SELECT lexeme WHERE length(lexeme) > 6
        ) AS entries(entry)
    $$
    """,
    # A document's entries in its kind's index (tickets 0014): its beginnings and its bucket
    # of ids ('#' and id >> 14: 16,384 ids a bucket; fulltext.ID_BUCKET_BITS), so that a range
    # of ids is a few entries (a '#' is in no word).
    """
    CREATE OR REPLACE FUNCTION opsdesk_search_beginnings(vector tsvector, id bigint) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT opsdesk_word_prefixes(vector) || array_to_tsvector(ARRAY['#' || (id >> 14)])
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION opsdesk_query_prefixes(query tsquery) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT CASE WHEN NOT bool_or(m[2] IS NOT NULL AND length(m[1]) > 6) THEN CAST(string_agg(
            DISTINCT quote_literal(CASE WHEN length(m[1]) > 6 THEN m[1] ELSE left(m[1], 6) END), ' & ')
            AS tsquery) END
        FROM regexp_matches(CAST(query AS text), '''([^'']+)''(:\\*)?', 'g') AS m
        WHERE length(m[1]) >= 3
    $$
    """,
]
BACKWARD = [
    "DROP FUNCTION IF EXISTS opsdesk_query_prefixes(tsquery)",
    "DROP FUNCTION IF EXISTS opsdesk_search_beginnings(tsvector, bigint)",
    "DROP FUNCTION IF EXISTS opsdesk_word_prefixes(tsvector)",
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
    dependencies = [("core", "0013_search_scope_joint_tokens")]

    operations = [migrations.RunPython(forward, backward)]
