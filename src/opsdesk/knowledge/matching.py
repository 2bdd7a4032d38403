"""Plain word matching for suggestions, similar tickets and the gaps report: lower-case words,
stop words dropped, a light plural/verb ending folded, and a score of weighted word overlap.

It needs no search engine, so suggestions behave the same on SQLite and PostgreSQL and never
depend on the syntax of a full-text query: any text a person types is just words here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from opsdesk.knowledge.constants import MAX_QUERY_CHARS, MAX_QUERY_WORDS, MIN_WORD_LENGTH

WORD = re.compile(r"[^\W_]+", re.UNICODE)

_STOP_WORDS_TEXT = """
    a about after again all also am an and any are as at be because been before being but by can
    cannot could did do does doing done dont for from get gets getting got had has have having he
    her here him his how i if in into is it its just me more my no not now of off on once only or
    other our out over please same she should so some still such than that the their them then
    there these they this those to too up us very was we were what when where which while who why
    will with won would you your yours hi hello thanks thank help need needs issue problem working
    work works doesnt cant isnt wont since today anymore again keep keeps
    der die das und ist nicht ein eine mit von zu den dem le la les et est pas un une des du de
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Endings folded so "printers"/"printer" and "crashing"/"crashes"/"crash" meet.
SUFFIXES = ("ing", "es", "ed", "s")


def fold(word: str) -> str:
    for suffix in SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """The meaningful words of ``text`` in order (folded, without stop words or repeats)."""
    seen: dict[str, None] = {}
    for raw in WORD.findall((text or "").lower()):
        if len(raw) < MIN_WORD_LENGTH or raw in STOP_WORDS or raw.isdigit():
            continue
        seen.setdefault(fold(raw), None)
    return list(seen)


def query_words(query: str) -> list[str]:
    """The words of a typed query, bounded: the longest ones win when there are too many."""
    found = words((query or "")[:MAX_QUERY_CHARS])
    if len(found) > MAX_QUERY_WORDS:
        keep = set(sorted(found, key=len, reverse=True)[:MAX_QUERY_WORDS])
        found = [word for word in found if word in keep]
    return found


def overlap(query: Iterable[str], text_words: set[str], *, prefix_last: bool = False) -> int:
    """How many query words appear in ``text_words``; the last one may be a prefix (typing)."""
    query = list(query)
    hits = 0
    for index, word in enumerate(query):
        typed = prefix_last and index == len(query) - 1
        if word in text_words or (typed and any(w.startswith(word) for w in text_words)):
            hits += 1
    return hits


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def fulltext_query(query: str) -> str:
    """A typed query as text for the full-text search: its meaningful words, stop words dropped.

    Quoted phrases stay phrases (all their words, in order); an unbalanced quote is ignored; the
    last word stays as typed, so the search matches it as a prefix. The result holds letters,
    digits, spaces and balanced quotes only, at most ``MAX_QUERY_WORDS`` terms: nothing in it is
    an operator of either engine. Words are not folded: the engine stems them itself.
    """
    text = (query or "")[:MAX_QUERY_CHARS]
    if text.count('"') % 2:
        text = text.replace('"', " ")
    parts: list[str] = []
    seen: set[str] = set()
    for quoted, bare in _TOKEN.findall(text):
        if quoted:
            phrase = " ".join(WORD.findall(quoted.lower()))
            if len(phrase.split()) > 1 and phrase not in seen:
                seen.add(phrase)
                parts.append(f'"{phrase}"')
                continue
            bare = phrase  # a quoted single word is just a word
        for word in WORD.findall(bare.lower()):
            if len(word) < MIN_WORD_LENGTH or word in STOP_WORDS or word in seen:
                continue
            seen.add(word)
            parts.append(word)
    if len(parts) > MAX_QUERY_WORDS:
        # Keep the longest terms (phrases count as long), in their order, and the last one typed.
        ranked = sorted(range(len(parts) - 1), key=lambda i: len(parts[i]), reverse=True)
        keep = set(ranked[: MAX_QUERY_WORDS - 1]) | {len(parts) - 1}
        parts = [part for index, part in enumerate(parts) if index in keep]
    return " ".join(parts)
