"""PostgreSQL: the word pairs of a document and of a phrase, for an index of them.

A GIN index of words can't tell whether two words stand side by side: for a phrase it hands
out every document holding the phrase's words, and each is read and its positions tested. For
a phrase of common words that is most of a search: '"ad access"' read 12,000 articles for the
194 that held it, '"please action"' 30,000-60,000 tickets. ``opsdesk_word_pairs`` gives a
document's adjacent word pairs ("ad access"), from the positions of its stored vector; a GIN
index of them (an expression index, per kind: knowledge 0004, tickets 0012) hands out the
documents where two words stand side by side. ``opsdesk_phrase_pairs`` makes the pairs of a
phrase's words: a document the phrase matches holds all of them (it is still tested for the
phrase: a phrase of three words may have both pairs apart), and no other is read. Pairs are
taken exactly where a phrase looks for them (the stored positions: a word after its 256th use,
or past position 16,383, is in neither), so nothing the phrase would match is left out.

SQLite's FTS5 index keeps positions and needs none of this."""

from django.db import migrations

FORWARD = [
    # A document's pairs: each two words at positions p and p + 1, as "first second".
    """
    CREATE OR REPLACE FUNCTION opsdesk_word_pairs(vector tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        WITH w AS (SELECT lexeme, unnest(positions) AS p FROM unnest(vector))
        SELECT array_to_tsvector(coalesce(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme), '{}'))
        FROM w AS a JOIN w AS b ON b.p = a.p + 1
    $$
    """,
    # The pairs every document matching these phrases holds, ANDed; NULL when they have none
    # (a single word, or words parted by stop words).
    """
    CREATE OR REPLACE FUNCTION opsdesk_phrase_pairs(config regconfig, phrases text[]) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT CAST(string_agg(DISTINCT quote_literal(pair), ' & ') AS tsquery)
        FROM unnest(phrases) AS phrase,
            unnest(tsvector_to_array(opsdesk_word_pairs(to_tsvector(config, phrase)))) AS pair
    $$
    """,
]
BACKWARD = [
    "DROP FUNCTION IF EXISTS opsdesk_phrase_pairs(regconfig, text[])",
    "DROP FUNCTION IF EXISTS opsdesk_word_pairs(tsvector)",
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
    dependencies = [("core", "0010_search_kind_status_statistics")]

    operations = [migrations.RunPython(forward, backward)]
