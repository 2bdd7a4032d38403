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

import functools
import html
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

MAX_QUERY_LENGTH = 256
MAX_TERMS = 12
MAX_BODY_LENGTH = 100_000
COUNT_CAP = 1_000  # counts above this show as "1,000+": counting every match of a common word is slow
SNIPPET_WORDS = 24
# PostgreSQL's ts_headline parses and stems every word of the text it is given (0.07 ms for a
# 1.5 kB article and a word, 0.25 for a phrase; 1 ms for 7 kB): it is given the SNIPPET_WINDOW
# characters around the first likely match first (see _HEADLINES), the text's first
# HEADLINE_CHARS when no match is there, and the whole text only when none is there either.
SNIPPET_WINDOW = 600
SNIPPET_LEAD = 200
HEADLINE_CHARS = 3_000
# How many matches are ranked: each kind's newest RANK_WINDOW within the reader's scope and the
# filters. Neither engine can rank without scoring every match (bm25 and ts_rank_cd are computed
# per row), and a common word matches hundreds of thousands of tickets: scoring them all took
# seconds at a million. Recency is what a service desk wants anyway: a query that matches more
# is ranked within its newest matches (as counts stop at "1,000+"), and older ones are reached
# by more words or a date filter.
RANK_WINDOW = COUNT_CAP
# PostgreSQL (see PostgresEngine._newest_matches): how many of a kind's newest documents are
# tested one by one to measure how common the words are, and how many more at most.
WALK_PROBE = 5_000
# ... and at most this many rows per match wanted: a kind only counted to 100 (a tab not shown)
# measures its density on its newest 505, not 5,000 (4 ms of article vectors read, and their
# count, for an agent's ticket search).
PROBE_PER_MATCH = 5
WALK_BUDGET = 150_000
# A match found through the GIN index costs about as much as six rows walked (a random visit,
# often a recheck of the whole vector, against the next row of the index): measured at a
# million, ten for tickets, three for articles six times their size.
INDEX_ROW_COST = 6
# Memory for the bitmap of the GIN index's matches. At PostgreSQL's default (4 MB) the matches
# of a prefix ("error:*", every last word typed) in a million tickets no longer fit, the bitmap
# keeps whole pages, and each row of them is read and tested again: 'november error' read
# 63,000 rows for 34,000 matches (550 ms; 400 with room). 32 MB holds an exact bitmap of about
# three million rows, and is taken only while that statement runs.
GIN_WORK_MEM = "32MB"
# The GIN index hands out all of a kind's matches (in the table's order), and each is read from
# the table to be sorted by id for the newest few: 11,600 tickets read for the 935 newest of
# '"please action"'. It is first asked for the ids where, by the density the probe measured,
# GIN_RANGE times the matches wanted lie (a range of the primary key, which the planner ANDs
# with the index's matches), and below that range only if it held too few. Not when that range
# is half the scope or more: its bitmap then costs more than it saves (the articles' searches,
# 100,000 of them, took 3-6 ms more).
GIN_RANGE = 2
# The range's bitmap costs by its ids (0.04 µs each, all kinds), a match read from the table
# about forty times that: a range of 207,000 ids cost 8 ms and spared 7 ms of reads ('link
# locations' over a million tickets); an organisation's 1/20 of the tickets was slower with one.
RANGE_IDS_PER_MATCH = 40
# The same for a reader's own documents (a requester's tickets), walked through their reader
# rows: each row walked is a lookup by id, as a match through the GIN index is.
READER_PROBE = 1_000
READER_INDEX_ROW_COST = 2
# PostgreSQL: a kind's index of word beginnings (migration core 0014) also holds each
# document's bucket of ids, '#' and id >> ID_BUCKET_BITS (16,384 ids a bucket), so that a
# range of ids is a few of its entries; up to MAX_BUCKETS of them are asked for.
ID_BUCKET_BITS = 14
MAX_BUCKETS = 64
# SQLite (see SQLiteEngine._rank): ids LOOKUP_SPAN apart or more on average are each looked up
# through the MATCH rather than every match between them walked; a one-term query's
# candidates so spread, up to RANK_LOOKUPS of them, are then ranked from FTS5's counts, not by
# its bm25; with FTS5's constants for that ranking.
LOOKUP_SPAN = 10_000
RANK_LOOKUPS = 100
PREFIXES_INDEXED = range(2, 7)  # the FTS5 index's prefix lengths (migration core 0008)
BM25_K1 = 1.2
BM25_B = 0.75
# The planner's estimates of a kind's and a reader's number of documents, and which indexes
# there are, kept this long (at most ESTIMATES_KEPT of them, per process).
ESTIMATE_SECONDS = 60.0
ESTIMATES_KEPT = 10_000
_estimates: dict[tuple, tuple[float, Any]] = {}

# Private-use characters mark highlights inside the engine's output; they are removed from the
# indexed text, so they can only come from the engine.
FTS_TABLE = "core_searchdocument_fts"  # SQLite: the FTS5 index of every kind
MARK_START = "\ue000"
MARK_END = "\ue001"
_MARKERS = re.compile(f"[{MARK_START}{MARK_END}]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; "_" separates words
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
READER_KEY = re.compile(r"[a-z0-9]+")


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
    # Who may read the record, as keys (``u12`` a user, ``o3`` an organisation…), for kinds
    # whose readers are a small part of everybody (a requester's tickets): see KindScope.
    readers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in self.readers:
            if not READER_KEY.fullmatch(key):
                # A key is also a token in SQLite's index (migration core 0005): one word.
                raise ValueError(f"A reader key is lowercase letters and digits, not {key!r}.")


@dataclass
class KindScope:
    """What one reader may match of one kind: every object of the kind, or those whose
    documents carry one of ``reader_keys`` (Document.readers), or, when ``ids`` is set,
    (sql, params) of a subquery of the object ids they may view; ``private`` whether they read
    the private variant.

    Reader keys make a reader's scope a condition on the documents themselves, answered by the
    index: a subquery of ids is evaluated first and whole (50,000 ids for a requester whose
    organisation shares its tickets, 200 ms before the first match was looked at)."""

    kind: str
    ids: tuple[str, Sequence[Any]] | None = None
    private: bool = False
    reader_keys: tuple[str, ...] | None = None
    counted: Counted | None = None  # left by ``Engine.count`` for the search that follows


# A matching document's id, and its rank when the statement that found it computed one.
Candidate = tuple[int, float | None]


@dataclass(frozen=True)
class Counted:
    """What an engine's count found for a query and filters, kept on the scope: the newest
    matching documents (Candidate), ``complete`` when there are no more."""

    query: ParsedQuery
    filters: Filters
    found: tuple[Candidate, ...]
    complete: bool


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


@dataclass(frozen=True)
class _Source:
    """Rows a PostgreSQL walk tests one by one (PostgresEngine._walk_source): ``sql`` for FROM,
    with ``params``; ``number`` each row's place in the walk, when counted; ``inscope`` whether
    a row is in the reader's scope and filters, when the rows are not all."""

    sql: str
    params: list[Any]
    number: str = "NULL::bigint"
    inscope: str = "TRUE"
    inscope_params: list[Any] = field(default_factory=list)


def _dt(value: datetime | None) -> Any:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return connection.ops.adapt_datetimefield_value(value)


def _scope_where(scope: KindScope, filters: Filters, *, kind_sql: str = "d.kind = %s") -> _Where:
    """What one reader may match of one kind, within the filters, as conditions on ``d`` (all
    but the reader keys, which each engine tests its own way)."""
    where = _Where()
    where.add(kind_sql, *[scope.kind] * kind_sql.count("%s"))
    where.add("d.private OR NOT d.has_private" if scope.private else "NOT d.private")
    if scope.ids is not None:
        sql, sub_params = scope.ids
        where.add(f"d.object_id IN ({sql})", *sub_params)
    _filter_clause(filters, where)
    return where


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
            common = (doc.status or "", doc.service_id, _dt(doc.created_at), self.readers_value(doc.readers))
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
                " created_at, readers, title, body, indexed_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (kind, object_id, private) DO UPDATE SET has_private = excluded.has_private,"
                " status = excluded.status, service_id = excluded.service_id,"
                " created_at = excluded.created_at, readers = excluded.readers,"
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

    @staticmethod
    def readers_value(readers: tuple[str, ...]) -> Any:
        """Document.readers as the ``readers`` column stores them."""
        return list(readers)

    @abstractmethod
    def optimize(self) -> None:
        """Leave the index as fast to read as it can be (after a full rebuild)."""

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
        """One page of ranked matches within the scopes and filters: each kind's newest
        RANK_WINDOW matches (its candidates) are ranked together."""
        if not query or not scopes:
            return []
        with connection.cursor() as cursor:
            found = [(scope.kind, self._candidates(cursor, query, scope, filters)) for scope in scopes]
            if not any(candidates for _, candidates in found):
                return []
            return self._rank(cursor, query, found, limit=limit, offset=offset)

    def count(
        self,
        query: ParsedQuery,
        scope: KindScope,
        filters: Filters,
        *,
        cap: int = COUNT_CAP,
        ranked: bool = True,
    ) -> int:
        """How many objects of one kind match for this reader; at most ``cap + 1`` are counted.
        The matches found, the newest, are kept on the scope: a search that follows with the
        same query and filters ranks those instead of looking for them again. ``ranked=False``
        when no search follows (a kind only counted): the engine may then skip ranking them,
        and count any of the matches rather than the newest."""
        if not query:
            return 0
        with connection.cursor() as cursor:
            found = self._newest_matches(cursor, query, scope, filters, limit=cap + 1, ranked=ranked)
        complete = len(found) <= cap
        # Unranked, the engine may have counted any of the matches: kept only when they are all.
        kept = found if ranked or complete else []
        scope.counted = Counted(query=query, filters=filters, found=tuple(kept), complete=complete)
        return len(found)

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

    def _candidates(self, cursor, query: ParsedQuery, scope: KindScope, filters: Filters) -> list[Candidate]:
        counted = scope.counted
        if (
            counted is not None
            and (counted.query, counted.filters) == (query, filters)
            and (counted.complete or len(counted.found) >= RANK_WINDOW)
        ):
            return list(counted.found[:RANK_WINDOW])  # found by the count
        return self._newest_matches(cursor, query, scope, filters, limit=RANK_WINDOW)

    @abstractmethod
    def raw_match_ids(self, query: ParsedQuery, *, limit: int) -> list[int]:
        """The bare engine query (MATCH / @@, ranked, no permissions or filters): the
        benchmark's reference for what the engine itself costs."""

    @abstractmethod
    def _newest_matches(
        self, cursor, query, scope, filters, *, limit: int, ranked: bool = True
    ) -> list[Candidate]:
        """The scope's newest ``limit`` matches within the filters (ranked, when ``ranked``, if
        the engine ranks them on the way). Not ``ranked``, for a kind only counted: any
        ``limit`` of them will do (all of them when there are no more)."""

    @abstractmethod
    def _rank(
        self, cursor, query: ParsedQuery, found: list[tuple[str, list[Candidate]]], *, limit: int, offset: int
    ) -> list[Match]:
        """One page of these documents (each kind's candidates), best first, with highlighted
        title and snippet."""


class SQLiteEngine(Engine):
    vendor = "sqlite"
    # A title word weighs ten body words; the scope tokens (third column) weigh nothing.
    TITLE_WEIGHT = 10.0
    RANK = f"bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0, 0.0)"

    @staticmethod
    def match_expression(query: ParsedQuery) -> str:
        """The user's words for MATCH, in the title and body. Every word is a quoted FTS5
        string (so nothing in it is an operator); terms are ANDed."""
        parts = []
        for term in query.terms:
            quoted = '"' + " ".join(term.words).replace('"', '""') + '"'
            parts.append(quoted + ("*" if term.prefix else ""))
        return "{title body}: (" + " ".join(parts) + ")"

    @staticmethod
    def readers_value(readers: tuple[str, ...]) -> Any:
        # As the tokens the index matches (migration core 0005): "zru12 zro3".
        return " ".join(f"zr{key}" for key in readers)

    @classmethod
    def scoped_expression(cls, query: ParsedQuery, scope: KindScope) -> str:
        """The user's words, and the scope's token of kind and visibility, or its reader's
        tokens of kind, visibility and key (migration core 0013): FTS5 then hands out only
        documents of that kind and variant that the reader may read, however many matches
        others hold. One token rather than three ANDed: FTS5 advanced the kind's and the
        visibility's doclists (a million entries each) to every document of the reader's.
        Never ranked: bm25 would first count every document of the kind."""
        kind = f"{scope.kind}0{'x' if scope.private else 'p'}"
        if scope.reader_keys is None:
            tokens = f'"zk{kind}"'
        else:
            # Keys are letters and digits (Document, KindScope): nothing in them is syntax.
            if not scope.reader_keys or not all(READER_KEY.fullmatch(key) for key in scope.reader_keys):
                raise ValueError(f"Reader keys are lowercase letters and digits: {scope.reader_keys!r}")
            tokens = " OR ".join(f'"zr{kind}{key}"' for key in scope.reader_keys)
        return f"{{search_scope}}: ({tokens}) AND {cls.match_expression(query)}"

    @staticmethod
    def _table(cursor, kind: str) -> str:
        """The FTS5 index a kind is searched and ranked in: its own when it has one
        (``core_searchdocument_fts_<kind>``, knowledge 0005 for articles), where bm25 reads its
        terms' IDF from its own documents only; else the index of every kind."""
        own = f"{FTS_TABLE}_{kind}"

        def exists() -> bool:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [own])
            return cursor.fetchone() is not None

        return own if _kept(("fts", own), exists) else FTS_TABLE

    def _newest_matches(
        self, cursor, query, scope, filters, *, limit: int, ranked: bool = True
    ) -> list[Candidate]:
        # FTS5 hands the matches out newest first (ORDER BY rowid DESC is its own order, no
        # sort). The tokens say kind and visibility; a narrow scope (a requester's tickets) is
        # collected once as document ids and each match checked against them in memory;
        # filters need the document itself (CROSS JOIN: FTS5 drives, or SQLite would run the
        # MATCH once per document instead).
        table = self._table(cursor, scope.kind)
        where = _scope_where(scope, filters)
        join, condition, params = "", "", []
        if scope.ids is not None:
            condition = f" AND +f.rowid IN (SELECT d.id FROM core_searchdocument d WHERE {where.render()})"  # noqa: S608 - fixed SQL fragments; values are parameters
            params = where.params
        elif filters != Filters():
            join = " CROSS JOIN core_searchdocument d ON d.id = f.rowid"
            condition, params = f" AND {where.render()}", where.params
        cursor.execute(
            f"SELECT f.rowid FROM {table} f{join}"  # noqa: S608 - fixed SQL fragments; values are parameters
            f" WHERE {table} MATCH %s{condition} ORDER BY f.rowid DESC LIMIT %s",
            [self.scoped_expression(query, scope), *params, limit],
        )
        return [(row[0], None) for row in cursor.fetchall()]  # ranked by bm25 in _rank

    def _rank(self, cursor, query, found, *, limit, offset) -> list[Match]:
        # bm25 for the candidates only, then highlights and snippets for the page only, in the
        # kind's own index when one kind is ranked. Kinds ranked together are ranked in the
        # index of every kind, which holds them all: scores of different indexes, each with its
        # own IDF, don't compare.
        tables = {self._table(cursor, kind) for kind, candidates in found if candidates}
        table = tables.pop() if len(tables) == 1 else FTS_TABLE
        ids = [doc_id for _, candidates in found for doc_id, _ in candidates]
        page = self._scores(cursor, table, query, ids, limit, offset)
        if not page:
            return []
        details = self._details(cursor, table, query, [doc_id for doc_id, _ in page])
        return [_match_row(details[doc_id], rank=-score) for doc_id, score in page if doc_id in details]

    def _walk(
        self,
        cursor,
        table: str,
        query,
        columns: str,
        ids: list[int],
        tail: str = "",
        *params: Any,
        join: str = "",
    ):
        # The matches between the lowest and highest id are walked once (FTS5 seeks to the
        # range); "+f.rowid" keeps FTS5 from looking each id up with the MATCH again (each
        # lookup works out bm25's IDF anew).
        cursor.execute(
            f"SELECT {columns} FROM {table} f{join}"  # noqa: S608 - fixed SQL fragments; values are parameters
            f" WHERE {table} MATCH %s AND f.rowid BETWEEN %s AND %s AND +f.rowid IN ("
            + ", ".join(["%s"] * len(ids))
            + f"){tail}",
            [self.match_expression(query), min(ids), max(ids), *ids, *params],
        )
        return cursor.fetchall()

    def _look_up(self, cursor, table: str, query, columns: str, ids: list[int], join: str = ""):
        # Each id looked up through the MATCH (FTS5 seeks each term to it, 60 µs): few ids
        # spread over the index (a requester's tickets over a million) cost less so than
        # every match between them walked (a common word's thousands: 10-40 ms); ids close
        # together (the newest articles), more.
        cursor.execute(
            f"SELECT {columns} FROM {table} f{join}"  # noqa: S608 - fixed SQL fragments; values are parameters
            f" WHERE {table} MATCH %s AND f.rowid IN (" + ", ".join(["%s"] * len(ids)) + ")",
            [self.match_expression(query), *ids],
        )
        return cursor.fetchall()

    @staticmethod
    def _spread(query, ids: list[int]) -> bool:
        """Whether the ids lie far enough apart to be looked up one by one. A prefix with no
        index of its length is expanded (every word it begins merged) for each lookup: 5 ms a
        lookup for "accounts*"."""
        expands = any(t.prefix and len(t.words[0]) not in PREFIXES_INDEXED for t in query.terms)
        return not expands and max(ids) - min(ids) >= LOOKUP_SPAN * len(ids)

    def _scores(
        self, cursor, table: str, query, ids: list[int], limit: int, offset: int
    ) -> list[tuple[int, float]]:
        """The candidates' ids and bm25 scores, best first, ``limit`` from ``offset``."""
        if len(query.terms) == 1 and len(ids) <= RANK_LOOKUPS and self._spread(query, ids):
            scored = self._rank_one_term(cursor, table, query, ids)
            if scored is not None:
                return scored[offset : offset + limit]
        # No join while ranking: a document row read per candidate cost more than bm25.
        ranked = f"f.rowid, bm25({table}, {self.TITLE_WEIGHT}, 1.0, 0.0) AS score"
        return self._walk(
            cursor,
            table,
            query,
            ranked,
            ids,
            " ORDER BY score, f.rowid DESC LIMIT %s OFFSET %s",
            limit,
            offset,
        )

    def _details(self, cursor, table: str, query, ids: list[int]) -> dict[int, tuple]:
        """The page's rows: kind, object, highlighted title, snippet, status and date."""
        read = self._look_up if self._spread(query, ids) else self._walk
        rows = read(
            cursor,
            table,
            query,
            "f.rowid, d.kind, d.object_id, 0,"
            f" highlight({table}, 0, '{MARK_START}', '{MARK_END}'),"
            f" snippet({table}, 1, '{MARK_START}', '{MARK_END}', '…', {SNIPPET_WORDS}),"
            " d.status, d.created_at",
            ids,
            join=" CROSS JOIN core_searchdocument d ON d.id = f.rowid",
        )
        return {row[0]: row[1:] for row in rows}

    def _rank_one_term(self, cursor, table: str, query, ids: list[int]) -> list[tuple[int, float]] | None:
        """bm25 of a one-term query's candidates, best first (as bm25 orders them), from what
        FTS5 keeps: the term's instances in each column (the highlights), the row's tokens
        (its docsize) and the average row's (the index's totals; None, for bm25 itself, while
        an uncommitted index has none saved). FTS5's bm25 is the term's IDF times this; the
        IDF, which FTS5 works out by reading every document holding the term (300,000 for
        "ad"), is the same for each candidate and changes no order. Ranks compare within one
        search, as bm25's do."""
        cursor.execute(f"SELECT block FROM {table}_data WHERE id = 1")  # noqa: S608 - a table name of ours
        saved = cursor.fetchone()
        documents, *tokens = _varints(saved[0]) if saved else (0,)
        if not documents:
            return None
        average = sum(tokens) / documents
        scored = []
        for doc_id, title, body, size in self._look_up(
            cursor,
            table,
            query,
            f"f.rowid, highlight({table}, 0, '{MARK_START}', ''),"
            f" highlight({table}, 1, '{MARK_START}', ''), z.sz",
            ids,
            join=f" CROSS JOIN {table}_docsize z ON z.id = f.rowid",
        ):
            freq = self.TITLE_WEIGHT * (title or "").count(MARK_START) + (body or "").count(MARK_START)
            length = BM25_K1 * (1 - BM25_B + BM25_B * sum(_varints(size)) / average)
            scored.append((-freq * (BM25_K1 + 1) / (freq + length), -doc_id))
        scored.sort()
        return [(-neg_id, score) for score, neg_id in scored]

    def optimize(self) -> None:
        # One b-tree per term instead of the segments incremental writes leave behind, in the
        # index of every kind and in each kind's own.
        with connection.cursor() as cursor:
            cursor.execute(
                # FTS5's own tables (_data, _idx…) are plain ones.
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE %s"
                " AND sql LIKE 'CREATE VIRTUAL TABLE%%'",
                [f"{FTS_TABLE}%"],
            )
            for (table,) in cursor.fetchall():
                cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")  # noqa: S608 - a table name of ours

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

    def _phrase_hit(
        self, cursor, query: ParsedQuery, kind: str, hit: str, hit_params: list
    ) -> tuple[str, list]:
        """The GIN statement's match for a query with phrases, in a kind with an index of word
        pairs (migration core 0011; the index named ``core_searchdocument_<kind>_word_pairs``,
        valid): the documents holding the phrases' pairs, read from that index, each then
        tested for the whole match. The words' index would hand out every document holding a
        phrase's words, side by side or not, each read to test the phrase: 12,000 articles for
        the 194 that held '"ad access"', 45 ms against 2.

        The rest is tested on each row ("IS TRUE"), not read from the words' index as well:
        PostgreSQL tests a phrase's rows again, and with it every condition of the scan, the
        pairs computed anew for each row (0.15 ms an article: 500 ms for '"new starter"'). The
        pairs' query is computed once, when the statement is planned (its arguments are
        constants); a phrase with none (words parted by stop words) goes through the words."""
        phrases = [" ".join(term.words) for term in query.terms if term.is_phrase]
        if not phrases or not self._has_index(cursor, f"core_searchdocument_{kind}_word_pairs"):
            return hit, hit_params
        pairs = f"opsdesk_phrase_pairs('{self.config}', %s::text[])"
        through_pairs = f"opsdesk_word_pairs(d.search_vector) @@ {pairs} AND ({hit}) IS TRUE"
        return (
            f"({through_pairs} OR {pairs} IS NULL AND {hit})",
            [phrases, *hit_params, phrases, *hit_params],
        )

    def _reads_beginnings(self, cursor, query: ParsedQuery, kind: str) -> bool:
        """Whether the GIN path reads this query's matches of this kind through the kind's index
        of word beginnings and id buckets (migration core 0014; the index named
        ``core_searchdocument_<kind>_beginnings``, valid): a query with a prefix and no phrase
        (that goes through its pairs). The index of words gathers every word a prefix begins,
        with all their documents, before intersecting them with anything ('start':* in an
        organisation's tickets: 25 ms against 4); and a range of ids, which it intersects
        from the primary key's bitmap (0.04 µs an id), is a few buckets here, an entry each."""
        if not any(t.prefix for t in query.terms) or any(t.is_phrase for t in query.terms):
            return False
        return self._has_index(cursor, f"core_searchdocument_{kind}_beginnings")

    def _beginnings_hit(
        self, query: ParsedQuery, hit: str, hit_params: list, low: int | None, high: int | None
    ) -> tuple[str, list]:
        """The GIN statement's match through the beginnings (see _reads_beginnings): the
        documents holding the query's beginnings, and, for a range of ids (low <= id < high),
        one of its buckets, each then tested for the whole match.

        As in _phrase_hit, the rest is tested on each row ("IS TRUE"), and the beginnings'
        query is computed once, when the statement is planned; a query with none (words of one
        or two letters), or with a prefix longer than the beginnings indexed, goes through the
        words."""
        tsquery, q_params = self.tsquery(query)
        beginnings, beginnings_params = f"opsdesk_query_prefixes({tsquery})", q_params
        if low is not None and high is not None:
            first, last = low >> ID_BUCKET_BITS, (high - 1) >> ID_BUCKET_BITS
            if last - first < MAX_BUCKETS:
                buckets = " | ".join(f"'#{bucket}'" for bucket in range(first, last + 1))
                beginnings, beginnings_params = f"({beginnings} && CAST(%s AS tsquery))", [*q_params, buckets]
        through_beginnings = (
            f"opsdesk_search_beginnings(d.search_vector, d.id) @@ {beginnings} AND ({hit}) IS TRUE"
        )
        return (
            f"({through_beginnings} OR opsdesk_query_prefixes({tsquery}) IS NULL AND {hit})",
            [*beginnings_params, *hit_params, *q_params, *hit_params],
        )

    def _where(self, scope: KindScope, filters: Filters) -> _Where:
        # The kind: "kind = x" lets a narrow scope (a requester's tickets) be probed through the
        # (kind, object_id) index. PostgreSQL checks such an equality after every other
        # condition, though, the match included, which reads each row's whole vector: 300 ms
        # through 100,000 articles before the first ticket. The range form is checked
        # where it is written, before the match, and for a whole kind it is all there is:
        # ordered by (kind DESC, id DESC), it can only come from the (kind, id) index, which
        # then walks just that kind, newest first.
        kind_sql = (
            "d.kind = %s AND d.kind >= %s AND d.kind <= %s" if scope.ids else "d.kind >= %s AND d.kind <= %s"
        )
        return _scope_where(scope, filters, kind_sql=kind_sql)

    def _newest_matches(
        self, cursor, query, scope, filters, *, limit: int, ranked: bool = True
    ) -> list[Candidate]:
        # The planner picks its way on an estimate, and an estimate of a tsquery is often a
        # hundred times off either way (a prefix; two common words, rarely adjacent): it then
        # walks the table backwards for a rare word (a million rows, each vector read) or reads
        # every match of a common one through the GIN index. So the density is measured
        # instead: the kind's newest WALK_PROBE documents are tested one by one; if the matches
        # among them say the window is reached within WALK_BUDGET more, and sooner than the
        # GIN index would find the kind's matches (INDEX_ROW_COST each), the walk goes on;
        # otherwise the rest comes through the GIN index.
        #
        # A reader whose keys open a small part of the kind (a requester's tickets) walks their
        # own documents instead, newest first
        # through the reader rows of migration core 0006: their 500 tickets, or their
        # organisation's 50,000, rather than the kind's million of which they may read one in
        # twenty. (Left to the planner, such a search had the table walked backwards for a word
        # it guessed common, 300,000 rows, or read every match of a common word through both GIN
        # indexes: 250 ms.)
        #
        # A walk ranks its matches as it finds them (each row is in hand, its vector already
        # read): _rank then reads no candidate again but the page's. Not for a kind only
        # counted: ts_rank_cd of a long article costs more than its match.
        tsquery, q_params = self.tsquery(query)
        where = self._where(scope, filters)
        conditions, params = where.render(), where.params
        order = " ORDER BY d.kind DESC, d.id DESC"
        hit, hit_params = f"d.search_vector @@ {tsquery}", q_params
        if scope.ids is not None:  # narrow: the planner's choice is good (probes by object)
            cursor.execute(
                f"SELECT d.id, NULL FROM core_searchdocument d WHERE {conditions}"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" AND {hit}{order} LIMIT %s",
                [*params, *hit_params, limit],
            )
            return cursor.fetchall()

        # A reader whose keys open most of the kind (a requester and the published public
        # articles) walks the kind, a row a match when it is theirs: through the reader rows
        # each row would be looked up by id, for nothing saved. ("IS TRUE": the keys are
        # tested on each row, never read from their GIN index, which the planner would
        # otherwise pick and then sort all 90,000 readable articles: 250 ms.)
        keys, scope_size = scope.reader_keys, None
        if keys is not None:
            scope_size = self._readers_size(cursor, keys)
            kind_size = self._kind_size(cursor, scope.kind)
            if scope_size * 2 >= kind_size:
                # The keys after the words: tested for the matches only (1 µs a row).
                hit, hit_params = f"{hit} AND (d.readers && %s::text[]) IS TRUE", [*hit_params, list(keys)]
                keys, scope_size = None, kind_size
        # The probe: the matches among the scope's newest documents.
        # A reader's rows are each looked up by id: a smaller probe, and a match through the
        # GIN index costs hardly more than a row walked.
        probe_rows, index_row_cost = (
            (WALK_PROBE, INDEX_ROW_COST) if keys is None else (READER_PROBE, READER_INDEX_ROW_COST)
        )
        probe_rows = min(probe_rows, PROBE_PER_MATCH * limit)
        # "OFFSET 0" keeps the match a column of each row walked: without it the planner may
        # move it into the scan, and read every match of a common word through the GIN index
        # (a requester's article search: 190 ms for 'information', where the walk takes 10).
        # The rank is computed above it, for the matches only. A walk of reader rows numbers
        # them (w.n), and its first and last rows come out too, match or not: the ids it spanned,
        # without a second statement to find them (30 ms for 1,000 reader rows). A walk of the
        # kind is not numbered (row_number() costs 0.6 µs a row, a window keeps each vector).
        rank = f"ts_rank_cd(w.search_vector, {tsquery})" if ranked else "NULL"
        rank_params = q_params if ranked else []

        def walk(source: _Source, rows: int, wanted: int) -> tuple[list[Candidate], int | None, int | None]:
            """The first ``wanted`` matches of ``rows`` walked, and, when the walk numbers its
            rows, the first row's id and the last's (when it found that many)."""
            cursor.execute(
                f"SELECT w.id, {rank}, w.hit, w.n FROM"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" (SELECT d.id, d.search_vector, {source.number} AS n, {source.inscope} AND {hit} AS hit"
                f" FROM {source.sql} OFFSET 0) AS w WHERE w.hit OR w.n = 1 OR w.n = %s LIMIT %s",
                [*rank_params, *source.inscope_params, *hit_params, *source.params, rows, wanted + 2],
            )
            walked = cursor.fetchall()
            first = next((row[0] for row in walked if row[3] == 1), None)
            last = next((row[0] for row in walked if row[3] == rows), None)
            return [(row[0], row[1]) for row in walked if row[2]][:wanted], first, last

        source = self._walk_source(keys, conditions, params, None, probe_rows)
        found, newest, oldest = walk(source, probe_rows, limit)
        if len(found) == limit:
            return found  # common words: enough before the probe's end, where it stopped
        if keys is not None and oldest is None:
            return found  # the reader's whole scope was probed
        gin = functools.partial(
            self._through_gin, cursor, query, scope.kind, keys, conditions, params, hit, hit_params
        )
        if scope_size is None:
            scope_size = self._kind_size(cursor, scope.kind)
        wanted = limit - len(found)
        density = len(found) / probe_rows
        # Walk no further than where the GIN index would have found the scope's matches.
        walk_rows = min(WALK_BUDGET, int(index_row_cost * density * scope_size))
        walks_on = bool(density) and wanted / density <= walk_rows
        if not ranked and scope_size > probe_rows and not walks_on:
            # A kind only counted wants how many match, up to the limit, not the newest: any
            # ``limit`` of them, unsorted, stop the GIN path's reads of the table there (the
            # articles' tab of a ticket search: 101 rows read, not the 3,000 matches of a word
            # for the newest 101; nor the probe's end looked for). Unless the probe says the
            # rest is a short walk away: the GIN index reads every match of the words before
            # handing out the first ('link locations' in the articles' tab: 15 ms for 14,854
            # matches, where 25 more were 170 articles away).
            return gin([(None, None)], limit, ordered=False)
        if keys is None:
            cursor.execute(
                f"SELECT COUNT(*), MIN(d.id), MAX(d.id) FROM (SELECT d.id FROM {source.sql}) AS d",  # noqa: S608 - fixed SQL fragments; values are parameters
                source.params,
            )
            probed, last, newest = cursor.fetchone()
            oldest = last if probed == probe_rows else None
            if oldest is None:
                return found  # the whole scope was probed
        # How far apart, in ids, the scope's rows lie below the probe: where the GIN path's
        # range of ids begins. A kind's, from its first id (the probe's own span can be far
        # off: twenty tickets written after 100,000 articles made it 21 ids a row, not 1); a
        # reader's, from the span of the reader rows walked.
        if keys is None:
            first, rows_below = self._first_id(cursor, scope.kind), scope_size - probe_rows
            spread = first is not None and oldest > first and rows_below > 0
            ids_per_row = (oldest - first) / rows_below if spread else None
        else:
            ids_per_row = (newest - oldest) / probe_rows if newest is not None and newest > oldest else None
        if walks_on:
            below = self._walk_source(keys, conditions, params, oldest, walk_rows)
            more, _, last = walk(below, walk_rows, wanted)
            found += more
            if len(more) == wanted or (keys is not None and last is None):
                return found  # enough, or the reader's whole scope walked
            # Sparser than probed. The matches walked are kept: none lies between the last of
            # them and where the walk stopped, so the GIN path looks below that last one.
            # (Thrown away, they were found again: 'visib', 41 ms walked, then 15 through GIN.)
            density = len(found) / (probe_rows + walk_rows)
            wanted = limit - len(found)
            oldest = more[-1][0] if more else oldest
        # Where the matches wanted should lie, by the density and the probe's span: a range of
        # ids the planner ANDs with the GIN index's matches, then below it if it held too few.
        # Only when the matches it spares reading from the table outweigh its ids (a bitmap of
        # the primary key: RANGE_IDS_PER_MATCH ids cost one match read), and when it is less
        # than half the scope.
        ranges: list[tuple[int | None, int | None]] = [(None, oldest)]
        if not ranked:  # any of the rest will do
            return found + gin(ranges, wanted, ordered=False)
        if density and ids_per_row:
            range_rows = GIN_RANGE * wanted / density
            span = int(range_rows * ids_per_row)
            spared = density * scope_size - GIN_RANGE * wanted
            # A range read through the id buckets costs next to nothing (see _reads_beginnings).
            cheap = self._reads_beginnings(cursor, query, scope.kind)
            if (
                range_rows * 2 <= scope_size
                and span < oldest
                and (cheap or spared * RANGE_IDS_PER_MATCH > span)
            ):
                ranges = [(oldest - span, oldest), (None, oldest - span)]
        return found + gin(ranges, wanted, ordered=True)

    def _through_gin(
        self,
        cursor,
        query: ParsedQuery,
        kind: str,
        keys: Sequence[str] | None,
        conditions: str,
        params: list,
        hit: str,
        hit_params: list,
        ranges: list[tuple[int | None, int | None]],
        limit: int,
        *,
        ordered: bool,
    ) -> list[Candidate]:
        """Up to ``limit`` matches of the scope through the GIN index, range by range ((low,
        high): low <= id < high, either open): the newest of each, ranked, when ``ordered``;
        else any, unranked."""
        hit, hit_params = self._phrase_hit(cursor, query, kind, hit, hit_params)
        beginnings = self._reads_beginnings(cursor, query, kind)
        found: list[Candidate] = []
        with transaction.atomic(using=connection.alias):
            # Through the GIN index, which the planner may not walk (or scan) instead; with
            # room for an exact bitmap of a common prefix's matches (see GIN_WORK_MEM).
            cursor.execute(
                "SELECT set_config('enable_indexscan', 'off', true),"
                " set_config('enable_seqscan', 'off', true), set_config('work_mem', %s, true)",
                [GIN_WORK_MEM],
            )
            # Sorted by id alone (one kind): the kind's text compared in each step of a sort of
            # 11,500 matches ('event*') cost a third of the statement (28 -> 15 ms). Ranked
            # above the sort, for the newest only (below it, every match would be): each row's
            # vector is in hand, where _rank would read them all again by id ('start' in an
            # organisation's tickets: +1 ms here for 907, against 3.6 ms there).
            select, select_params, order = "d.id, NULL", [], ""
            if ordered:
                tsquery, q_params = self.tsquery(query)
                select, order = "d.id, d.search_vector", " ORDER BY d.id DESC"
            for low, high in ranges:
                range_hit, range_params = hit, hit_params
                if beginnings:
                    range_hit, range_params = self._beginnings_hit(query, hit, hit_params, low, high)
                if keys is not None:
                    range_hit, range_params = (
                        f"d.readers && %s::text[] AND {range_hit}",
                        [list(keys), *range_params],
                    )
                bounds, bound_params = "", []
                if high is not None:
                    bounds, bound_params = " AND d.id < %s", [high]
                if low is not None:
                    bounds, bound_params = f"{bounds} AND d.id >= %s", [*bound_params, low]
                sql = (
                    f"SELECT {select} FROM core_searchdocument d WHERE {conditions}{bounds}"  # noqa: S608 - fixed SQL fragments; values are parameters
                    f" AND {range_hit}{order} LIMIT %s"
                )
                if ordered:
                    rank = f"ts_rank_cd(n.search_vector, {tsquery})"
                    sql = f"SELECT n.id, {rank} FROM ({sql}) AS n ORDER BY n.id DESC"  # noqa: S608 - as above
                    select_params = q_params
                cursor.execute(
                    sql, [*select_params, *params, *bound_params, *range_params, limit - len(found)]
                )
                found += cursor.fetchall()
                if len(found) == limit:
                    break
        return found

    @staticmethod
    def _walk_source(
        keys: Sequence[str] | None, conditions: str, params: list, below: int | None, rows: int
    ) -> _Source:
        """The scope's newest ``rows`` documents as ``d``, newest first: the kind through its
        (kind, id) index, or, with ``keys``, a reader's documents through their reader rows (one
        ordered run per key; a document under two keys, their own ticket in their
        organisation, once). Those are ``rows`` reader rows, in the scope or not (a private
        variant, a status filtered out): ``inscope`` tells, and the walk's end is theirs."""
        below_params = [below] if below is not None else []
        if keys is None:
            below_sql = " AND d.id < %s" if below is not None else ""
            order = " ORDER BY d.kind DESC, d.id DESC LIMIT %s"
            return _Source(
                f"core_searchdocument d WHERE {conditions}{below_sql}{order}", [*params, *below_params, rows]
            )
        runs, run_params = [], []
        keys = list(keys)
        for n, key in enumerate(keys):
            sql = "SELECT r.document_id FROM core_searchreader r WHERE r.key = %s"
            run_params.append(key)
            if below is not None:
                sql += " AND r.document_id < %s"
                run_params.append(below)
            if n:
                sql += (
                    " AND NOT EXISTS (SELECT 1 FROM core_searchreader e"
                    " WHERE e.document_id = r.document_id AND e.key = ANY(%s))"
                )
                run_params.append(keys[:n])
            # Each run stops at ``rows``: unlimited, the runs were read whole and sorted
            # together for their newest rows (an organisation's 50,000: 20 of a 26 ms walk).
            runs.append(f"({sql} ORDER BY r.document_id DESC LIMIT %s)")
            run_params.append(rows)
        # The limit is on the reader rows, so each is looked up by id (a nested loop), not
        # merged with a walk of the whole table.
        source = (
            "(SELECT u.document_id, row_number() OVER (ORDER BY u.document_id DESC) AS n FROM ("  # noqa: S608 - fixed SQL fragments; values are parameters
            + " UNION ALL ".join(runs)
            + ") AS u ORDER BY 1 DESC LIMIT %s) AS r"
            " JOIN core_searchdocument d ON d.id = r.document_id ORDER BY r.document_id DESC"
        )
        return _Source(
            source, [*run_params, rows], number="r.n", inscope=f"({conditions})", inscope_params=params
        )

    @classmethod
    def _kind_size(cls, cursor, kind: str) -> int:
        return cls._estimate(cursor, "SELECT 1 FROM core_searchdocument d WHERE d.kind = %s", [kind])

    @staticmethod
    def _first_id(cursor, kind: str) -> int | None:
        """The kind's first document's id (kept a minute, as the sizes are)."""

        def first() -> int | None:
            cursor.execute(
                "SELECT MIN(d.id) FROM core_searchdocument d WHERE d.kind >= %s AND d.kind <= %s",
                [kind, kind],
            )
            return cursor.fetchone()[0]

        return _kept(("first", kind), first)

    @classmethod
    def _readers_size(cls, cursor, keys: Sequence[str]) -> int:
        return cls._estimate(cursor, "SELECT 1 FROM core_searchreader r WHERE r.key = ANY(%s)", [list(keys)])

    @staticmethod
    def _estimate(cursor, sql: str, params: list) -> int:
        # The planner's estimate (its statistics of kinds and keys are good): no rows read,
        # but planning costs half a millisecond, and the sizes of kinds and keys move slowly.
        def rows() -> int:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            return int(plan[0]["Plan"]["Plan Rows"])

        return _kept((sql, repr(params)), rows)

    @staticmethod
    def _has_index(cursor, name: str) -> bool:
        """Whether the index is there and valid (a failed concurrent build leaves an invalid
        one, which the planner does not read)."""

        def valid() -> bool:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = %s AND i.indisvalid AND i.indrelid = 'core_searchdocument'::regclass)",
                [name],
            )
            return cursor.fetchone()[0]

        return _kept(("index", name), valid)

    def _rank(self, cursor, query, found, *, limit, offset) -> list[Match]:
        # The candidates not ranked by the statement that found them are ranked, all put in
        # order, and the page's text read; only then are headlines built (the costly part).
        tsquery, q_params = self.tsquery(query)
        found = [candidate for _, candidates in found for candidate in candidates]
        ranks = dict(found)
        unranked = [doc_id for doc_id, rank in found if rank is None]
        if unranked:
            cursor.execute(
                f"SELECT d.id, ts_rank_cd(d.search_vector, {tsquery})"  # noqa: S608 - fixed SQL fragments; values are parameters
                " FROM core_searchdocument d WHERE d.id = ANY(%s::bigint[])",
                # As one array literal: a list of 1,000 ids is quoted id by id (0.6 ms of Python).
                [*q_params, "{" + ",".join(map(str, unranked)) + "}"],
            )
            ranks.update(cursor.fetchall())
        ranked = sorted(((rank, doc_id) for doc_id, rank in ranks.items() if rank is not None), reverse=True)
        page = ranked[offset : offset + limit]
        if not page:
            return []
        marks = f"StartSel={MARK_START}, StopSel={MARK_END}"
        options = f'{marks}, MaxWords={SNIPPET_WORDS}, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
        cursor.execute(
            _HEADLINES.format(config=self.config, tsquery=tsquery, marks=marks),
            [
                *q_params,
                MARK_START,
                MARK_START,
                HEADLINE_CHARS,
                options,
                SNIPPET_LEAD,
                SNIPPET_LEAD,
                SNIPPET_WINDOW,
                SNIPPET_WINDOW,
                options,
                MARK_START,
                HEADLINE_CHARS,
                options,
                [doc_id for _, doc_id in page],
            ],
        )
        details = {row[0]: row[1:] for row in cursor.fetchall()}
        return [_match_row(details[doc_id], rank=rank) for rank, doc_id in page if doc_id in details]

    def optimize(self) -> None:
        # Fresh statistics for the planner (VACUUM, which can't run in a transaction, is left
        # to autovacuum).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE core_searchdocument")

    def raw_match_ids(self, query: ParsedQuery, *, limit: int) -> list[int]:
        tsquery, params = self.tsquery(query)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM core_searchdocument d WHERE d.search_vector @@ {tsquery}"  # noqa: S608 - fixed SQL fragments; values are parameters
                f" ORDER BY ts_rank_cd(d.search_vector, {tsquery}) DESC LIMIT %s",
                [*params, *params, limit],
            )
            return [row[0] for row in cursor.fetchall()]


# The page's highlighted titles and snippets (PostgresEngine._rank). A document whose body has
# no match (the title matched: the tsquery with every lexeme weighted B, the body's weight, is
# tested on the stored vector) shows its body's beginning. Otherwise the snippet comes from the
# first text that holds a match: the window around the first place that looks like one of the
# query's terms, opened at a word boundary; else the body's first HEADLINE_CHARS; else all of
# it. The looks are made of the tsquery's own text, one pattern per ANDed part: each lexeme
# (letters and digits, as the words were) a word beginning, less a final "i" (the stemmer's y,
# as in "compani"), and a phrase's words in order with at most three words between them;
# anything else in that text is dropped first, so a pattern is always valid. A place that
# looks like a term without matching ("mail" in "mailbox" for the word "mail") leaves the
# window without a highlight, and the longer texts are tried. The OFFSET 0s compute each
# headline once per row, not once per mention.
_HEADLINES = r"""
WITH q AS (SELECT {tsquery} AS q),
body AS (
    SELECT CAST(regexp_replace(CAST(q.q AS text), '''([[:alnum:]]+)''(?::(\*))?', '''\1'':\2B', 'g')
        AS tsquery) AS q
    FROM q
),
looks AS (
    SELECT coalesce(array_agg(DISTINCT regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(part, ':\*', '', 'g'), '[^[:alnum:]'' <>-]', '', 'g'),
        '([[:alnum:]])i''', '\1''', 'g'), '''([[:alnum:]]+)''', '\\m\1', 'g'),
        ' <(-|[0-9]+)> ', '\\w*\\W+(?:\\w+\\W+){{0,3}}', 'g')), '{{}}') AS list
    FROM q CROSS JOIN regexp_split_to_table(CAST(q.q AS text), ' & ') AS part
)
SELECT d.id, d.kind, d.object_id, NULL,
    ts_headline('{config}', d.title, q.q, 'HighlightAll=true, {marks}'),
    CASE WHEN first.at IS NULL OR strpos(near.snippet, %s) > 0 THEN near.snippet
        WHEN strpos(head.snippet, %s) > 0 OR length(d.body) <= %s THEN head.snippet
        ELSE ts_headline('{config}', d.body, q.q, %s) END,
    d.status, d.created_at
FROM core_searchdocument d CROSS JOIN q CROSS JOIN body CROSS JOIN looks
CROSS JOIN LATERAL (
    -- NULL: no match in the body; 0: a match, but nothing looks like one
    SELECT CASE WHEN d.search_vector @@ body.q THEN coalesce(min(nullif(
        regexp_instr(d.body, l.pattern, 1, 1, 0, 'i'), 0)), 0) END AS at
    FROM unnest(looks.list) AS l(pattern)
) AS first
CROSS JOIN LATERAL (
    SELECT CASE WHEN first.at > %s
        THEN regexp_replace(substr(d.body, first.at - %s, %s), '^\S*\s', '')
        ELSE left(d.body, %s) END AS text
) AS win
CROSS JOIN LATERAL (
    SELECT ts_headline('{config}', win.text, q.q, %s) AS snippet OFFSET 0
) AS near
CROSS JOIN LATERAL (
    SELECT CASE WHEN first.at IS NULL OR strpos(near.snippet, %s) > 0 THEN NULL
        ELSE ts_headline('{config}', left(d.body, %s), q.q, %s) END AS snippet
    OFFSET 0
) AS head
WHERE d.id = ANY(%s)
"""


def _kept(key: tuple, compute: Callable[[], Any]) -> Any:
    """What ``compute`` returns for the database in use, kept ESTIMATE_SECONDS: the sizes of
    kinds and keys, and which indexes there are, move slowly."""
    key = (connection.settings_dict["NAME"], *key)
    now = time.monotonic()
    kept = _estimates.get(key)
    if kept is not None and now - kept[0] < ESTIMATE_SECONDS:
        return kept[1]
    value = compute()
    if len(_estimates) >= ESTIMATES_KEPT:
        _estimates.clear()
    _estimates[key] = (now, value)
    return value


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


def _varints(blob: bytes) -> list[int]:
    """The integers of an FTS5 record (SQLite's varints: seven bits a byte, high bit set on all
    but the last; a ninth byte gives all eight)."""
    values, value, length = [], 0, 0
    for byte in blob:
        length += 1
        if length == 9:
            value, more = (value << 8) | byte, False
        else:
            value, more = (value << 7) | (byte & 0x7F), bool(byte & 0x80)
        if not more:
            values.append(value)
            value, length = 0, 0
    return values


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
