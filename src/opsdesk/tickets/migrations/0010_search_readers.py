"""Fill the reader keys (migration core 0005) of the tickets' existing search documents: the
requester, the watchers and the organisation, as ``tickets.search_index.ticket_readers`` writes
them for every ticket saved from now on."""

from django.db import migrations

POSTGRESQL = """
UPDATE core_searchdocument d SET readers =
    ARRAY['u' || t.requester_id]
    || COALESCE((SELECT array_agg('u' || w.user_id ORDER BY w.user_id)
                 FROM tickets_ticket_watchers w WHERE w.ticket_id = t.id), '{}')
    || CASE WHEN t.organization_id IS NULL THEN '{}'::text[] ELSE ARRAY['o' || t.organization_id] END
FROM tickets_ticket t
WHERE d.kind = 'ticket' AND d.object_id = t.id
"""
SQLITE = """
UPDATE core_searchdocument SET readers = COALESCE((
    SELECT 'zru' || t.requester_id
        || COALESCE((SELECT group_concat(' zru' || w.user_id, '')
                     FROM tickets_ticket_watchers w WHERE w.ticket_id = t.id), '')
        || COALESCE(' zro' || t.organization_id, '')
    FROM tickets_ticket t WHERE t.id = core_searchdocument.object_id
), '')
WHERE kind = 'ticket'
"""


STATEMENTS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}


def forward(apps, schema_editor):
    statement = STATEMENTS.get(schema_editor.connection.vendor)
    if statement:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_approval_and_task_events"),
        ("core", "0005_search_readers"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
