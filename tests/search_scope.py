"""For the reader-key tests of each searchable kind: what a reader's search finds (its results
and its count, which must agree) and what the permission rule lets them read."""

from __future__ import annotations

from opsdesk.core.search import search_documents


def found(user, *, kind: str, word: str) -> set[int]:
    results = search_documents(user=user, query=word, kinds=(kind,), page_size=50)
    ids = {hit.obj.pk for hit in results.hits}
    counted = {c.kind: c.count for c in results.counts}.get(kind, 0)
    assert counted == len(ids), "the count and the results disagree"
    return ids


def allowed(user, model, *, word: str) -> set[int]:
    return set(model.objects.restrict(user, "view").filter(title__contains=word).values_list("pk", flat=True))
