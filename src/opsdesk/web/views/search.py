"""The global search box: every registered kind of record, restricted to what the user may see."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from opsdesk.core.search import MIN_QUERY_LENGTH, search

MAX_QUERY_LENGTH = 200


@login_required
def search_results(request):
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    hits = search(user=request.user, query=query) if query else []
    groups = [(label, list(items)) for label, items in groupby(hits, key=lambda hit: hit.label)]
    context = {
        "query": query,
        "groups": groups,
        "hit_count": len(hits),
        "too_short": bool(query) and len(query) < MIN_QUERY_LENGTH,
        "min_length": MIN_QUERY_LENGTH,
    }
    return render(request, "web/search.html", context)
