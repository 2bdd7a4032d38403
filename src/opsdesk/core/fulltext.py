"""The full-text engine behind ``opsdesk.core.search``: one interface, two implementations.

SQLite uses an FTS5 table (bm25 ranking, ``snippet()``/``highlight()``); PostgreSQL a stored
tsvector column with a GIN index (``ts_rank_cd``, ``ts_headline``). Both index the same rows of
``core_searchdocument`` (see migration core 0003), and both receive the same parsed query: the
user's words are never passed to the engine's own query language, so ``AND``, ``NEAR``, ``*``,
``"``, ``(``, ``:``, ``^`` and ``-`` typed by someone are just text.

A document is one record as the search box shows it: kind (``ticket``, ``problem``,
``article``…), object id, title, body and the attributes people filter on (status, service,
creation date). A record may also have a *private* variant: the same text plus what only some
readers may see (a ticket's internal notes). Readers allowed the private variant match it;
everybody else matches the public one, so a requester's results, snippets and counts never
contain a word of an internal note.
"""

from __future__ import annotations

import html
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

MAX_QUERY_LENGTH = 256
MAX_TERMS = 12
MAX_BODY_LENGTH = 100_000
COUNT_CAP = 1_000  # counts above this show as "1,000+": counting every match of a common word is slow
SNIPPET_WORDS = 24
# SQLite, wide scopes: how many of the best-ranked matches are checked against kind, privacy and
# filters before the whole ranking is (at least this many, or WINDOW_FACTOR pages).
SEARCH_WINDOW = 200
WINDOW_FACTOR = 5

# Private-use characters mark highlights inside the engine's output; they are removed from the
# indexed text, so they can only come from the engine.
MARK_START = "\ue000"
MARK_END = "\ue001"
_MARKERS = re.compile(f"[{MARK_START}{MARK_END}]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; "_" separates words
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class Term:
    """A word (matched as a prefix when ``prefix``) or a phrase (``words`` in that order)."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...]
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __str__(self) -> str:
        return " ".join(
            f'"{" ".join(t.words)}"' if t.is_phrase else t.words[0] + ("*" if t.prefix else "")
            for t in self.terms
        )


def parse_query(text: str) -> ParsedQuery:
    """The user's text as terms: ``"quoted words"`` are phrases (an unbalanced quote just ends
    the text), ``word*`` is a prefix, and the last bare word is a prefix too (search as you
    type). Everything but letters and digits separates words; at most ``MAX_TERMS`` terms."""
    text = text or ""
    truncated = len(text) > MAX_QUERY_LENGTH
    text = text[:MAX_QUERY_LENGTH]
    if text.count('"') % 2:
        text = text.replace('"', " ")
    terms: list[Term] = []
    for quoted, bare in _TOKEN.findall(text):
        if quoted:
            words = tuple(w.lower() for w in _WORD.findall(quoted))
            if words:
                terms.append(Term(words=words))
            continue
        explicit_prefix = bare.endswith("*")
        for word in _WORD.findall(bare):
            terms.append(Term(words=(word.lower(),), prefix=explicit_prefix))
    if len(terms) > MAX_TERMS:
        terms, truncated = terms[:MAX_TERMS], True
    if terms and not terms[-1].is_phrase and not text.rstrip().endswith('"'):
        terms[-1] = Term(words=terms[-1].words, prefix=True)
    return ParsedQuery(terms=tuple(terms), truncated=truncated)


def clean_text(value: Any) -> str:
    """Text as indexed: no highlight markers, no NULs, bounded."""
    return _MARKERS.sub(" ", str(value or "")).replace("\x00", " ")[:MAX_BODY_LENGTH]


def marked_to_html(value: str) -> str:
    """The engine's highlighted text as safe HTML: everything escaped, only <mark> added."""
    escaped = html.escape(value or "", quote=True)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


@dataclass(frozen=True)
class Document:
    kind: str
    object_id: int
    title: str
    body: str
    status: str = ""
    service_id: int | None = None
    created_at: datetime | None = None
    private_body: str | None = None  # the fuller text for readers allowed the private variant


@dataclass
class KindScope:
    """What one reader may match of one kind: ``ids`` is None for every object of the kind, or
    (sql, params) of a subquery of the object ids they may view; ``private`` whether they read
    the private variant."""

    kind: str
    ids: tuple[str, Sequence[Any]] | None = None
    private: bool = False


@dataclass(frozen=True)
class Filters:
    statuses: tuple[str, ...] = ()
    service_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Match:
    kind: str
    object_id: int
    rank: float
    title_html: str
    snippet_html: str
    status: str
    created_at: datetime | None


@dataclass
class _Where:
    sql: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, sql: str, *params: Any) -> None:
        self.sql.append(sql)
        self.params.extend(params)

    def render(self) -> str:
        return " AND ".join(f"({s})" for s in self.sql) if self.sql else "1=1"


def _dt(value: datetime | None) -> Any:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return connection.ops.adapt_datetimefield_value(value)


def _scope_clause(scopes: Sequence[KindScope], where: _Where) -> None:
    parts: list[str] = []
    params: list[Any] = []
    for scope in scopes:
        clause = "d.kind = %s"
        params.append(scope.kind)
        clause += " AND (d.private OR NOT d.has_private)" if scope.private else " AND NOT d.private"
        if scope.ids is not None:
            sql, sub_params = scope.ids
            clause += f" AND d.object_id IN ({sql})"
            params.extend(sub_params)
        parts.append(f"({clause})")
    where.add(" OR ".join(parts), *params)


def _filter_clause(filters: Filters, where: _Where) -> None:
    if filters.statuses:
        where.add("d.status IN (" + ", ".join(["%s"] * len(filters.statuses)) + ")", *filters.statuses)
    if filters.service_id is not None:
        where.add("d.service_id = %s", filters.service_id)
    if filters.since is not None:
        where.add("d.created_at >= %s", _dt(filters.since))
    if filters.until is not None:
        where.add("d.created_at < %s", _dt(filters.until))


class Engine(ABC):
    vendor = ""

    # --- writing -----------------------------------------------------------------------------
    def index(self, documents: Iterable[Document]) -> int:
        """Write (insert or replace) documents, public and private variants. Returns how many."""
        rows = []
        now = _dt(timezone.now())
        for doc in documents:
            title, body = clean_text(doc.title), clean_text(doc.body)
            has_private = doc.private_body is not None
            common = (doc.status or "", doc.service_id, _dt(doc.created_at))
            rows.append((doc.kind, doc.object_id, False, has_private, *common, title, body, now))
            if has_private:
                rows.append(
                    (doc.kind, doc.object_id, True, False, *common, title, clean_text(doc.private_body), now)
                )
        if not rows:
            return 0
        with connection.cursor() as cursor:
            kinds_ids = {(r[0], r[1]) for r in rows if not r[3]}
            # A record that lost its private text drops its private variant.
            for kind, object_id in kinds_ids:
                cursor.execute(
                    "DELETE FROM core_searchdocument WHERE kind = %s AND object_id = %s AND private = %s",
                    [kind, object_id, True],
                )
            cursor.executemany(
                "INSERT INTO core_searchdocument (kind, object_id, private, has_private, status, service_id,"
                " created_at, title, body, indexed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (kind, object_id, private) DO UPDATE SET has_private = excluded.has_private,"
                " status = excluded.status, service_id = excluded.service_id,"
                " created_at = excluded.created_at,"
                " title = excluded.title, body = excluded.body, indexed_at = excluded.indexed_at",
                rows,
            )
        return len(rows)

    def remove(self, kind: str, object_ids: Iterable[int]) -> None:
        ids = list(object_ids)
        if not ids:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM core_searchdocument WHERE kind = %s AND object_id IN ("  # noqa: S608 - fixed SQL fragments; values are parameters
                + ", ".join(["%s"] * len(ids))
                + ")",
                [kind, *ids],
            )

    def clear(self, kind: str | None = None) -> None:
        with connection.cursor() as cursor:
            if kind is None:
                cursor.execute("DELETE FROM core_searchdocument")
            else:
                cursor.execute("DELETE FROM core_searchdocument WHERE kind = %s", [kind])

    def document_count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM core_searchdocument")
            return cursor.fetchone()[0]

    # --- reading -----------------------------------------------------------------------------
    def search(
        self,
        query: ParsedQuery,
        scopes: Sequence[KindScope],
        filters: Filters,
        *,
        limit: int,
        offset: int = 0,
    ) -> list[Match]:
        if not query or not scopes:
            return []
        return self._search(query, scopes, filters, limit=limit, offset=offset)

    def count(self, query: ParsedQuery, scope: KindScope, filters: Filters, *, cap: int = COUNT_CAP) -> int:
        """How many objects of one kind match for this reader; at most ``cap + 1`` are counted."""
        if not query:
            return 0
        return self._count(query, scope, filters, cap=cap)

    def kinds_present(self, kinds: Sequence[str]) -> set[str]:
        """Which of ``kinds`` have at least one document (one index seek each, one statement):
        a kind with no documents needs no count and no place in the ranking."""
        kinds = list(dict.fromkeys(kinds))
        if not kinds:
            return set()
        one = (
            "SELECT CAST(%s AS VARCHAR(50)) WHERE EXISTS (SELECT 1 FROM core_searchdocument WHERE kind = %s)"
        )
        sql = " UNION ALL ".join([one] * len(kinds))
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for kind in kinds for value in (kind, kind)])
            return {row[0] for row in cursor.fetchall()}

    def _count(self, query: ParsedQuery, scope: KindScope, filters: Filters, *, cap: int) -> int:
        match_sql, match_params = self._match(query)
        where = _Where()
        where.add(match_sql, *match_params)
        _scope_clause([scope], where)
        _filter_clause(filters, where)
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {self._from()} WHERE {where.render()} LIMIT %s) AS hits"  # noqa: S608 - fixed SQL fragments; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [*where.params, cap + 1])
            return cursor.fetchone()[0]

    @abstractmethod
    def raw_match_ids(self, query: ParsedQuery, *, limit: int) -> list[int]:
        """The bare engine query (MATCH / @@, ranked, no permissions or filters): the
        benchmark's reference for what the engine itself costs."""

    @abstractmethod
    def _from(self) -> str:
        """The FROM clause: the documents joined to the engine's index."""

    @abstractmethod
    def _match(self, query: ParsedQuery) -> tuple[str, list[Any]]:
        """The WHERE fragment and parameters that match ``query`` in this engine's syntax."""

    @abstractmethod
    def _search(self, query, scopes, filters, *, limit, offset) -> list[Match]:
        """One page of ranked matches within the scopes and filters."""


class SQLiteEngine(Engine):
    vendor = "sqlite"
    RANK = "bm25(core_searchdocument_fts, 10.0, 1.0)"  # a title word weighs ten body words

    @staticmethod
    def match_expression(query: ParsedQuery) -> str:
        # Every word is a quoted FTS5 string (so nothing in it is an operator); terms are ANDed.
        parts = []
        for term in query.terms:
            quoted = '"' + " ".join(term.words).replace('"', '""') + '"'
            parts.append(quoted + ("*" if term.prefix else ""))
        return " ".join(parts)

    def _from(self) -> str:
        return "core_searchdocument_fts f JOIN core_searchdocument d ON d.id = f.rowid"

    def _match(self, query: ParsedQuery) -> tuple[str, list[Any]]:
        return "core_searchdocument_fts MATCH %s", [self.match_expression(query)]

    def _count(self, query: ParsedQuery, scope: KindScope, filters: Filters, *, cap: int) -> int:
        # The matching rowids are collected once (no ranking, no row reads) and each document of
        # the reader's scope is checked against them: no FTS lookup per row, no bm25.
        where = _Where()
        where.add(
            "d.id IN (SELECT rowid FROM core_searchdocument_fts WHERE core_searchdocument_fts MATCH %s)",
            self.match_expression(query),
        )
        _scope_clause([scope], where)
        _filter_clause(filters, where)
        sql = (
            "SELECT COUNT(*) FROM (SELECT 1 FROM core_searchdocument d"  # noqa: S608 - fixed SQL fragments; values are parameters
            f" WHERE {where.render()} LIMIT %s) AS hits"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*where.params, cap + 1])
            return cursor.fetchone()[0]

    def _search(self, query, scopes, filters, *, limit, offset) -> list[Match]:
        expression = self.match_expression(query)
        where = _Where()
        _scope_clause(scopes, where)
        _filter_clause(filters, where)
        ranked = (
            f"SELECT rowid AS doc_id, {self.RANK} AS score FROM core_searchdocument_fts"  # noqa: S608 - fixed SQL fragments; values are parameters
            " WHERE core_searchdocument_fts MATCH %s"
        )
        order = " ORDER BY m.score, m.doc_id DESC LIMIT %s OFFSET %s"
        with connection.cursor() as cursor:
            narrow = (
                f"SELECT m.doc_id, m.score FROM ({ranked}) AS m WHERE +m.doc_id IN"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" (SELECT d.id FROM core_searchdocument d WHERE {where.render()}){order}"
            )
            narrow_params = [expression, *where.params, limit, offset]
            page: list[tuple[int, float]] = []
            if all(scope.ids is not None for scope in scopes):
                # Narrow scopes (a requester's own tickets): the readable documents are
                # collected once and the matches checked against them before bm25 ranks them
                # ("+" keeps FTS5 from re-running the MATCH once per readable document).
                cursor.execute(narrow, narrow_params)
                page = cursor.fetchall()
            else:
                # Wide scopes (agents): FTS5 ranks every match alone and keeps the best
                # ``window``; only those are joined to their documents for kind, privacy and
                # filters. When too few survive (a rare kind, a filter), the readable documents
                # are collected and checked as for narrow scopes.
                window = max(SEARCH_WINDOW, WINDOW_FACTOR * (offset + limit))
                cursor.execute(
                    f"SELECT m.doc_id, m.score FROM ({ranked} ORDER BY score, doc_id DESC LIMIT %s) AS m"  # noqa: S608 - fixed SQL fragments; values are parameters
                    f" CROSS JOIN core_searchdocument d ON d.id = m.doc_id WHERE {where.render()}{order}",
                    [expression, window, *where.params, limit, offset],
                )
                page = cursor.fetchall()
                if len(page) < limit:
                    cursor.execute(narrow, narrow_params)
                    page = cursor.fetchall()
            if not page:
                return []
            # Highlights and snippets for the page only. "+f.rowid" keeps FTS5 from looking each
            # rowid up with the MATCH again (a prefix is expanded per lookup): the matches are
            # walked once and only the page's rows are highlighted.
            ids = [doc_id for doc_id, _ in page]
            cursor.execute(
                "SELECT f.rowid, d.kind, d.object_id, 0,"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" highlight(core_searchdocument_fts, 0, '{MARK_START}', '{MARK_END}'),"
                f" snippet(core_searchdocument_fts, 1, '{MARK_START}', '{MARK_END}', '…', {SNIPPET_WORDS}),"
                " d.status, d.created_at FROM core_searchdocument_fts f"
                " CROSS JOIN core_searchdocument d ON d.id = f.rowid"
                " WHERE core_searchdocument_fts MATCH %s AND +f.rowid IN ("
                + ", ".join(["%s"] * len(ids))
                + ")",
                [expression, *ids],
            )
            details = {row[0]: row[1:] for row in cursor.fetchall()}
        return [_match_row(details[doc_id], rank=-score) for doc_id, score in page if doc_id in details]

    def raw_match_ids(self, query: ParsedQuery, *, limit: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid FROM core_searchdocument_fts WHERE core_searchdocument_fts MATCH %s"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" ORDER BY {self.RANK} LIMIT %s",
                [self.match_expression(query), limit],
            )
            return [row[0] for row in cursor.fetchall()]


class PostgresEngine(Engine):
    vendor = "postgresql"
    config = "english"

    def tsquery(self, query: ParsedQuery) -> tuple[str, list[Any]]:
        # Words reach PostgreSQL as parameters of the *_tsquery functions. A prefix word has
        # only letters and digits and is quoted for to_tsquery, so nothing in it is an operator.
        parts, params = [], []
        for term in query.terms:
            if term.is_phrase:
                parts.append(f"phraseto_tsquery('{self.config}', %s)")
                params.append(" ".join(term.words))
            elif term.prefix:
                parts.append(f"to_tsquery('{self.config}', %s)")
                params.append(f"'{term.words[0]}':*")
            else:
                parts.append(f"plainto_tsquery('{self.config}', %s)")
                params.append(term.words[0])
        return "(" + " && ".join(parts) + ")", params

    def _from(self) -> str:
        return "core_searchdocument d"

    def _match(self, query: ParsedQuery) -> tuple[str, list[Any]]:
        tsquery, params = self.tsquery(query)
        return f"d.search_vector @@ {tsquery}", params

    def _search(self, query, scopes, filters, *, limit, offset) -> list[Match]:
        tsquery, q_params = self.tsquery(query)
        where = _Where()
        where.add(f"d.search_vector @@ {tsquery}", *q_params)
        _scope_clause(scopes, where)
        _filter_clause(filters, where)
        marks = f"StartSel={MARK_START}, StopSel={MARK_END}"
        options = f'{marks}, MaxWords={SNIPPET_WORDS}, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
        # Rank every match, keep the page, and only then build headlines (the costly part).
        sql = (
            "SELECT page.kind, page.object_id, page.rank,"  # noqa: S608 - fixed SQL fragments; values are parameters
            f" ts_headline('{self.config}', page.title, {tsquery}, 'HighlightAll=true, {marks}'),"
            f" ts_headline('{self.config}', page.body, {tsquery}, %s),"
            " page.status, page.created_at FROM ("
            f"SELECT d.id, d.kind, d.object_id, d.title, d.body, d.status, d.created_at,"
            f" ts_rank_cd(d.search_vector, {tsquery}) AS rank"
            f" FROM core_searchdocument d WHERE {where.render()}"
            " ORDER BY rank DESC, d.id DESC LIMIT %s OFFSET %s) AS page ORDER BY page.rank DESC, page.id DESC"
        )
        params = [*q_params, *q_params, options, *q_params, *where.params, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [_match_row(row, rank=row[2]) for row in rows]

    def raw_match_ids(self, query: ParsedQuery, *, limit: int) -> list[int]:
        tsquery, params = self.tsquery(query)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM core_searchdocument d WHERE d.search_vector @@ {tsquery}"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" ORDER BY ts_rank_cd(d.search_vector, {tsquery}) DESC LIMIT %s",
                [*params, *params, limit],
            )
            return [row[0] for row in cursor.fetchall()]


def _match_row(row: Sequence[Any], *, rank: float) -> Match:
    kind, object_id, _, title, snippet, status, created_at = row
    if isinstance(created_at, str):
        created_at = _parse_dt(created_at)
    return Match(
        kind=kind,
        object_id=int(object_id),
        rank=float(rank),
        title_html=marked_to_html(title),
        snippet_html=marked_to_html(snippet),
        status=status,
        created_at=created_at,
    )


def _parse_dt(value: str) -> datetime | None:
    parsed = parse_datetime(value)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def engine() -> Engine:
    """The engine of the database in use."""
    if connection.vendor == "postgresql":
        return PostgresEngine()
    if connection.vendor == "sqlite":
        return SQLiteEngine()
    raise RuntimeError(f"OpsDesk search supports SQLite and PostgreSQL, not {connection.vendor}.")
