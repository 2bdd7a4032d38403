"""Fill the reader keys (migration core 0005) of the articles' existing search documents, as
``knowledge.search_index.article_readers`` writes them for every article saved from now on:
``staff`` on public and internal articles, ``pub`` too on published public ones, ``t<team>``
on a team's articles."""

from django.db import migrations

POSTGRESQL = """
UPDATE core_searchdocument d SET readers = CASE
    WHEN a.audience = 'team' THEN
        CASE WHEN a.team_id IS NULL THEN '{}'::text[] ELSE ARRAY['t' || a.team_id] END
    WHEN a.audience = 'public' AND a.status = 'published' THEN ARRAY['staff', 'pub']
    ELSE ARRAY['staff']
END
FROM knowledge_article a
WHERE d.kind = 'article' AND d.object_id = a.id
"""
SQLITE = """
UPDATE core_searchdocument SET readers = COALESCE((
    SELECT CASE
        WHEN a.audience = 'team' THEN COALESCE('zrt' || a.team_id, '')
        WHEN a.audience = 'public' AND a.status = 'published' THEN 'zrstaff zrpub'
        ELSE 'zrstaff'
    END
    FROM knowledge_article a WHERE a.id = core_searchdocument.object_id
), '')
WHERE kind = 'article'
"""


STATEMENTS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}


def forward(apps, schema_editor):
    statement = STATEMENTS.get(schema_editor.connection.vendor)
    if statement:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_articles_versions_feedback_deflection"),
        ("core", "0005_search_readers"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
