"""One search interface for the global search box and the API.

Apps register the models people look for; every registered model is kept in the full-text
index (``opsdesk.core.fulltext``: SQLite FTS5 or PostgreSQL tsvector + GIN) as it is written,
and a search intersects the engine's matches with each model's *restricted* queryset in SQL,
so nobody finds, or counts, what they may not see.

Registering (in ``AppConfig.ready()``, through the app's ``search_index.register()``)::

    register_search(Service, fields=("name", "description"), label="Service")

indexes ``str(obj)`` (or ``describe(obj)``) as the title and the text of ``fields`` as the body.
Richer records declare their text and attributes::

    register_search(
        Article, fields=("title", "body"), label="Article", kind="article",
        title=lambda a: a.title, body=lambda a: a.body,
        status="status", service="service_id", created="created_at",
        related=((ArticleVersion, "article_id"),),
    )

``status``/``service``/``created`` name the attributes the filters use (found automatically
when the model has fields of those names); ``private=PrivateText(...)`` adds text that only
some readers match (a ticket's internal notes); ``readers``/``reader_keys`` put the model's
read permission on its documents, for kinds each reader sees a small part of (see
``SearchTarget.reader_keys``); ``related`` names other models whose writes
change the text (a reply changes its ticket's document); ``url`` builds the link (default
``get_absolute_url``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save

from opsdesk.core import fulltext
from opsdesk.core.fulltext import (
    COUNT_CAP,
    Document,
    Filters,
    KindScope,
    Match,
    ParsedQuery,
    engine,
    parse_query,
)
from opsdesk.core.querysets import permission_filter

logger = logging.getLogger(__name__)

MIN_QUERY_LENGTH = 2
MAX_PAGE_SIZE = 50
MAX_PAGE = 100
# The tabs of kinds not shown count their matches up to here ("100+"), the kind shown up to
# COUNT_CAP: counting an other kind's first thousand matches of a common word was a third of an
# agent's ticket search (the articles: 26 of 67 ms for 'claim check', a million tickets).
OTHER_KINDS_COUNT_CAP = 100
REINDEX_BATCH = 500
KIND_PATTERN = re.compile(r"[a-z0-9]+")

TextSource = Callable[[Any], str] | str | tuple[str, ...]


@dataclass(frozen=True)
class PrivateText:
    """Text of a record that only some readers may match: ``may_read(user)`` says who, and
    ``body(obj)`` is the *whole* text those readers match (public text included), or None when
    the record has nothing private (then everybody matches the public text)."""

    may_read: Callable[[Any], bool]
    body: Callable[[Any], str | None]


@dataclass(frozen=True)
class SearchTarget:
    model: type[models.Model]
    fields: tuple[str, ...]
    label: str
    describe: Callable[[Any], str] = str
    kind: str = ""
    title: TextSource | None = None
    body: TextSource | None = None
    status: str | None = None
    service: str | None = None
    created: str | None = None
    private: PrivateText | None = None
    related: tuple[tuple, ...] = ()  # (model, parent id attribute[, carries_text predicate])
    url: Callable[[Any], str] | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    # The fields ``describe`` and ``url`` read, when a page of hits may load those only: every
    # caller that reads more of a hit's ``obj`` of this kind loads it itself.
    shown_fields: tuple[str, ...] = ()
    # ``readers(obj)``: keys of who may read the object ("u12", "o3"); ``reader_keys(user)``: the
    # keys a user holds when the model's permission rule limits them (a Q). The documents that
    # carry one of a user's keys must be exactly the objects that rule lets them read: the
    # search then asks the index for them instead of listing every id the rule allows.
    readers: Callable[[Any], Iterable[str]] | None = None
    reader_keys: Callable[[Any], Iterable[str]] | None = None

    def document(self, obj: Any) -> Document:
        title = _text(self.title, obj) if self.title is not None else self.describe(obj)
        body = _text(self.body if self.body is not None else self.fields, obj)
        return Document(
            kind=self.kind,
            object_id=obj.pk,
            title=title,
            body=body,
            status=str(getattr(obj, self.status) or "") if self.status else "",
            service_id=getattr(obj, self.service) if self.service else None,
            created_at=getattr(obj, self.created) if self.created else None,
            private_body=self.private.body(obj) if self.private else None,
            readers=tuple(self.readers(obj)) if self.readers else (),
        )

    def link(self, obj: Any) -> str:
        if self.url is not None:
            return self.url(obj)
        return obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""

    def queryset(self) -> models.QuerySet:
        """The objects with what their documents are made of."""
        qs = self._objects()
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def shown(self) -> models.QuerySet:
        """The objects as a page of hits shows them (title, link): without the prefetches of
        their text and readers (a ticket's replies and watchers, two statements a search),
        and with ``shown_fields`` only when the target names them (20 articles: 0.81 ms
        with their 24 fields, their text among them, 0.39 with two)."""
        qs = self._objects()
        if self.shown_fields:
            qs = qs.only(*self.shown_fields)
        return qs

    def _objects(self) -> models.QuerySet:
        qs = self.model._default_manager.all()
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs


@dataclass(frozen=True)
class SearchHit:
    label: str
    title: str
    url: str
    obj: Any
    kind: str = ""
    title_html: str = ""
    snippet_html: str = ""
    status: str = ""
    created_at: datetime | None = None
    rank: float = 0.0


@dataclass
class KindCount:
    kind: str
    label: str
    count: int
    cap: int = COUNT_CAP  # matches beyond it were not counted

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def display(self) -> str:
        return f"{self.cap:,}+" if self.capped else f"{self.count:,}"


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    hits: list[SearchHit] = field(default_factory=list)
    counts: list[KindCount] = field(default_factory=list)
    page: int = 1
    page_size: int = 20
    message: str = ""
    kinds: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Matches of the chosen kinds (every kind when none is chosen)."""
        return sum(c.count for c in self.counts if not self.kinds or c.kind in self.kinds)

    @property
    def has_next(self) -> bool:
        # Each kind's newest RANK_WINDOW matches are ranked (fulltext.RANK_WINDOW): no page
        # lies beyond them.
        ranked = sum(
            min(c.count, fulltext.RANK_WINDOW) for c in self.counts if not self.kinds or c.kind in self.kinds
        )
        return self.page * self.page_size < ranked and self.page < MAX_PAGE

    @property
    def has_previous(self) -> bool:
        return self.page > 1


_targets: dict[type[models.Model], SearchTarget] = {}


def _text(source: TextSource | None, obj: Any) -> str:
    if source is None:
        return ""
    if callable(source):
        return source(obj) or ""
    names = (source,) if isinstance(source, str) else source
    return "\n".join(str(getattr(obj, name) or "") for name in names)


def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist and friends: the attribute is absent
        return False
    return True


def register_search(
    model: type[models.Model],
    *,
    fields: tuple[str, ...],
    label: str,
    describe: Callable[[Any], str] = str,
    kind: str = "",
    title: TextSource | None = None,
    body: TextSource | None = None,
    status: str | None = None,
    service: str | None = None,
    created: str | None = None,
    private: PrivateText | None = None,
    related: Iterable[tuple] = (),
    url: Callable[[Any], str] | None = None,
    select_related: tuple[str, ...] = (),
    prefetch_related: tuple[str, ...] = (),
    shown_fields: tuple[str, ...] = (),
    readers: Callable[[Any], Iterable[str]] | None = None,
    reader_keys: Callable[[Any], Iterable[str]] | None = None,
) -> SearchTarget:
    """Make ``model`` findable by the global search (see the module docstring). Registering a
    model again replaces its registration."""
    if status is None and _has_field(model, "status"):
        status = "status"
    if service is None and _has_field(model, "service"):
        service = "service_id"
    if created is None and _has_field(model, "created_at"):
        created = "created_at"
    kind = kind or model._meta.model_name
    if not KIND_PATTERN.fullmatch(kind):
        # The kind is also a token in SQLite's index (migration core 0004): one word.
        raise ValueError(f"A search kind is lowercase letters and digits, not {kind!r}.")
    if (readers is None) != (reader_keys is None):
        raise ValueError("readers and reader_keys go together: the documents' keys and the users'.")
    target = SearchTarget(
        model=model,
        fields=tuple(fields),
        label=label,
        describe=describe,
        kind=kind,
        title=title,
        body=body,
        status=status,
        service=service,
        created=created,
        private=private,
        related=tuple(related),
        url=url,
        select_related=select_related,
        prefetch_related=prefetch_related,
        shown_fields=shown_fields,
        readers=readers,
        reader_keys=reader_keys,
    )
    _targets[model] = target
    uid = f"opsdesk.search.{model._meta.label_lower}"
    post_save.connect(_indexed_saved, sender=model, dispatch_uid=uid, weak=False)
    post_delete.connect(_indexed_deleted, sender=model, dispatch_uid=uid, weak=False)
    for related_model, path, *rest in target.related:
        related_uid = f"{uid}.{related_model._meta.label_lower}.{path}"
        # An optional third element says which related rows carry text (a reply does, a
        # status change does not): only those rewrite the parent's document.
        carries_text = rest[0] if rest else None

        def reindex_parent(sender, instance, _model=model, _path=path, _carries=carries_text, **kwargs):
            parent_id = getattr(instance, _path, None)
            if parent_id is None or kwargs.get("raw") or (_carries is not None and not _carries(instance)):
                return
            index_objects(_model, [parent_id])

        post_save.connect(reindex_parent, sender=related_model, dispatch_uid=related_uid, weak=False)
        post_delete.connect(
            reindex_parent, sender=related_model, dispatch_uid=related_uid + ".del", weak=False
        )
    return target


def targets() -> list[SearchTarget]:
    return list(_targets.values())


def target_for_kind(kind: str) -> SearchTarget | None:
    return next((t for t in _targets.values() if t.kind == kind), None)


# --- keeping the index in step ----------------------------------------------------------------
def _indexed_saved(sender, instance, raw=False, **kwargs) -> None:
    # Synchronous, inside the writing transaction: searchable as soon as the write commits,
    # and a rolled-back write leaves no document behind. Fixture loading (raw) is skipped.
    if not raw:
        index_objects(sender, [instance.pk])


def _indexed_deleted(sender, instance, **kwargs) -> None:
    target = _targets.get(sender)
    if target is not None:
        engine().remove(target.kind, [instance.pk])


def index_objects(model: type[models.Model], pks: Iterable[Any]) -> int:
    """(Re)write the documents of these objects of a registered model; a missing object's
    document is removed. The hook for writes that bypass ``save()`` (``QuerySet.update``)."""
    target = _targets.get(model)
    pks = [pk for pk in pks if pk is not None]
    if target is None or not pks:
        return 0
    objects = list(target.queryset().filter(pk__in=pks))
    found = {obj.pk for obj in objects}
    eng = engine()
    eng.remove(target.kind, [pk for pk in pks if pk not in found])
    return eng.index(target.document(obj) for obj in objects)


def reindex(
    *, kinds: Sequence[str] | None = None, batch: int = REINDEX_BATCH
) -> Iterator[tuple[str, int, int]]:
    """Rebuild the index of every registered kind (or of ``kinds``) from the records. Yields
    (kind, done, total) after each batch, for a progress bar."""
    eng = engine()
    for target in _targets.values():
        if kinds and target.kind not in kinds:
            continue
        eng.clear(target.kind)
        qs = target.queryset().order_by("pk")
        total = qs.count()
        done, last_pk = 0, None
        yield target.kind, 0, total
        while True:
            page = qs.filter(pk__gt=last_pk) if last_pk is not None else qs
            objects = list(page[:batch])
            if not objects:
                break
            eng.index(target.document(obj) for obj in objects)
            done += len(objects)
            last_pk = objects[-1].pk
            yield target.kind, done, total


# --- reading ----------------------------------------------------------------------------------
def _scope(user: Any, target: SearchTarget) -> KindScope | None:
    allowed = permission_filter(user, "view", target.model)
    if allowed is False:
        return None
    private = target.private is not None and bool(target.private.may_read(user))
    if allowed is True:
        return KindScope(kind=target.kind, ids=None, private=private)
    if target.reader_keys is not None:
        keys = tuple(dict.fromkeys(target.reader_keys(user)))
        return KindScope(kind=target.kind, private=private, reader_keys=keys) if keys else None
    ids = target.model._default_manager.filter(allowed).values("pk")
    sql, params = ids.query.sql_with_params()
    return KindScope(kind=target.kind, ids=(sql, params), private=private)


def search_documents(
    *,
    user: Any,
    query: str,
    kinds: Sequence[str] = (),
    statuses: Sequence[str] = (),
    service_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 20,
    count_other_kinds: bool = True,
) -> SearchResults:
    """Ranked matches of ``query`` that ``user`` may see, a page of them with highlighted title
    and snippet, and the number of matches per kind (same permissions, same filters).

    ``count_other_kinds=False`` counts only the ``kinds`` asked for: callers that show one kind
    (the portal's suggestions, an agent's suggested articles) skip a count query per other kind."""
    parsed = parse_query(query)
    page = min(max(int(page), 1), MAX_PAGE)
    page_size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    results = SearchResults(query=query, parsed=parsed, page=page, page_size=page_size, kinds=tuple(kinds))
    if len((query or "").strip()) < MIN_QUERY_LENGTH:
        results.message = f"Search needs at least {MIN_QUERY_LENGTH} characters."
        return results
    if not parsed:
        results.message = "Type letters or digits to search for: punctuation alone matches nothing."
        return results
    if parsed.truncated:
        results.message = "Only the beginning of this long query was searched."
    filters = Filters(statuses=tuple(statuses), service_id=service_id, since=since, until=until)
    eng = engine()
    targets = [t for t in _targets.values() if count_other_kinds or not kinds or t.kind in kinds]
    # The kinds with documents first: a reader's scope of a kind with none is never asked for
    # (each is a permission rule evaluated, some a subquery compiled: 9 kinds for 2 present).
    present = eng.kinds_present([t.kind for t in targets])
    scopes: list[tuple[SearchTarget, KindScope]] = []
    for target in targets:
        scope = _scope(user, target) if target.kind in present else None
        if scope is not None:
            scopes.append((target, scope))
    for target, scope in scopes:
        # First: the search may reuse what it found (and need not rank a kind only counted).
        shown = not kinds or target.kind in kinds
        cap = COUNT_CAP if shown else OTHER_KINDS_COUNT_CAP
        count = eng.count(parsed, scope, filters, cap=cap, ranked=shown)
        if count:
            results.counts.append(KindCount(kind=target.kind, label=target.label, count=count, cap=cap))
    chosen = [(t, s) for t, s in scopes if not kinds or t.kind in kinds]
    chosen_counts = {c.kind for c in results.counts}
    chosen = [(t, s) for t, s in chosen if t.kind in chosen_counts]
    matches = eng.search(
        parsed, [s for _, s in chosen], filters, limit=page_size, offset=(page - 1) * page_size
    )
    results.hits = _hits(matches, {t.kind: t for t, _ in chosen})
    return results


def _hits(matches: list[Match], by_kind: dict[str, SearchTarget]) -> list[SearchHit]:
    objects: dict[tuple[str, int], Any] = {}
    for kind, target in by_kind.items():
        ids = [m.object_id for m in matches if m.kind == kind]
        if ids:
            for obj in target.shown().filter(pk__in=ids):
                objects[(kind, obj.pk)] = obj
    hits = []
    for match in matches:
        obj = objects.get((match.kind, match.object_id))
        if obj is None:  # deleted since it was indexed, without its document
            continue
        target = by_kind[match.kind]
        hits.append(
            SearchHit(
                label=target.label,
                title=target.describe(obj),
                url=target.link(obj),
                obj=obj,
                kind=match.kind,
                title_html=match.title_html,
                snippet_html=match.snippet_html,
                status=match.status,
                created_at=match.created_at,
                rank=match.rank,
            )
        )
    return hits


def search(*, user: Any, query: str, limit_per_kind: int = 10) -> list[SearchHit]:
    """The best ``limit_per_kind`` matches of each kind the user may see, grouped by kind."""
    results = search_documents(user=user, query=query, page_size=1)
    hits: list[SearchHit] = []
    for count in results.counts:
        hits.extend(
            search_documents(user=user, query=query, kinds=(count.kind,), page_size=limit_per_kind).hits
        )
    return hits
