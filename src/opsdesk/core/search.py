"""One search interface for the global search box and the API.

Apps register the models people look for, with the fields to match; a search runs each
registered model's *restricted* queryset, so nobody finds what they may not see. Names and
numbers are matched by substring here; the knowledge base adds ranked full-text search
(SQLite FTS5 / PostgreSQL) behind the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import models
from django.db.models import Q

MIN_QUERY_LENGTH = 2


@dataclass(frozen=True)
class SearchTarget:
    model: type[models.Model]
    fields: tuple[str, ...]
    label: str
    describe: Callable[[Any], str] = str


@dataclass(frozen=True)
class SearchHit:
    label: str
    title: str
    url: str
    obj: Any


_targets: list[SearchTarget] = []


def register_search(
    model: type[models.Model], *, fields: tuple[str, ...], label: str, describe: Callable[[Any], str] = str
) -> None:
    _targets.append(SearchTarget(model=model, fields=fields, label=label, describe=describe))


def search(*, user: Any, query: str, limit_per_kind: int = 10) -> list[SearchHit]:
    query = query.strip()
    if len(query) < MIN_QUERY_LENGTH:
        return []
    hits: list[SearchHit] = []
    for target in _targets:
        condition = reduce(or_, (Q(**{f"{field}__icontains": query}) for field in target.fields))
        for obj in target.model.objects.restrict(user, "view").filter(condition)[:limit_per_kind]:
            hits.append(
                SearchHit(label=target.label, title=target.describe(obj), url=obj.get_absolute_url(), obj=obj)
            )
    return hits
