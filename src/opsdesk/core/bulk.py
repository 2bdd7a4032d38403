"""Writing many rows' columns by primary key, fast on both databases.

SQLite runs ``executemany`` of a prepared UPDATE at about 100,000 rows a second; PostgreSQL
pays a round trip per row that way, so there one ``UPDATE … FROM (VALUES …)`` writes a whole
batch. Values arrive already adapted for the database (``adapt_datetimefield_value``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

# PostgreSQL types for the VALUES list, which carries no column types of its own.
PG_TYPES = {"int": "bigint", "text": "text", "bool": "boolean", "time": "timestamptz"}
PG_BATCH = 1000


def update_rows(table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence]) -> None:
    """``UPDATE table SET col = value … WHERE id = row[-1]`` for every row; ``columns`` are
    ``(name, kind)`` with kind int, text, bool or time, and each row ends with the id."""
    if not rows:
        return
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(name)} = %s" for name, _kind in columns)
            cursor.executemany(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", rows)  # noqa: S608
            return
        names = [name for name, _kind in columns]
        casts = [f"%s::{PG_TYPES[kind]}" for _name, kind in columns] + ["%s::bigint"]
        assignments = ", ".join(f"{quote(name)} = v.{quote(name)}" for name in names)
        alias = ", ".join([*(quote(name) for name in names), "id"])
        for start in range(0, len(rows), PG_BATCH):
            chunk = rows[start : start + PG_BATCH]
            values = ", ".join(f"({', '.join(casts)})" for _ in chunk)
            cursor.execute(
                f"UPDATE {quote(table)} AS t SET {assignments} FROM (VALUES {values}) AS v({alias}) "  # noqa: S608
                "WHERE t.id = v.id",
                [value for row in chunk for value in row],
            )
