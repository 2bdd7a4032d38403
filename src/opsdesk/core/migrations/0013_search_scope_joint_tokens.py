"""SQLite: one scope token says kind and visibility together, and one says kind, visibility and
reader together, so a search asks FTS5 for one token where it asked for three.

A requester's search of tickets was ``"zkticket" AND "zvpublic" AND ("zru12" OR "zro3")``:
FTS5 advanced the doclists of the kind's and the visibility's tokens (a million entries each)
to every document of the reader's, decoding most of them on the way: 8 of a requester's 16 ms,
15 of an organisation's 35 (1.1 million documents). Now it is ``("zrticket0pu12" OR
"zrticket0po3")``, and a search of a whole kind ``"zkticket0x"``, not ``"zkticket" AND
"zvprivate"``. Tokens: ``zk<kind>0<v>`` and ``zr<kind>0<v><key>`` for each visibility ``v`` the
document is read in (``p``, public text: not a private variant; ``x``, private text: a private
variant, or a record without one); the digit keeps a kind's name and a key apart. The old
separate tokens go. The FTS index is rebuilt once (a few minutes at a million documents).
PostgreSQL needs none of this."""

import importlib

from django.db import migrations

tokens = importlib.import_module("opsdesk.core.migrations.0004_search_scope_tokens")
readers = importlib.import_module("opsdesk.core.migrations.0005_search_readers")
prefixes = importlib.import_module("opsdesk.core.migrations.0008_search_prefixes")


def _visible(v: str) -> str:
    # "zkticket0p zrticket0pu12 zrticket0po3" from readers "zru12 zro3" (keys are letters and
    # digits: " zr" only ever starts a key).
    return f"'zk' || kind || '0{v}' || replace(' ' || readers, ' zr', ' zr' || kind || '0{v}')"


SCOPE_EXPRESSION = (
    f"CASE WHEN private THEN {_visible('x')} WHEN has_private THEN {_visible('p')}"
    f" ELSE {_visible('p')} || ' ' || {_visible('x')} END"
)


def _rebuild(scope_expression: str) -> list[str]:
    return [
        *readers.DROP_FTS,
        "ALTER TABLE core_searchdocument DROP COLUMN search_scope",
        f"ALTER TABLE core_searchdocument ADD COLUMN search_scope TEXT GENERATED ALWAYS AS ({scope_expression}) VIRTUAL",
        *tokens._sqlite(readers.FTS_COLUMNS, prefixes.UPDATE_OF, prefixes.FTS_OPTIONS),
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _rebuild(SCOPE_EXPRESSION):
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _rebuild(readers.SCOPE_EXPRESSION):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0012_search_kind_id_covering")]

    operations = [migrations.RunPython(forward, backward)]
