"""Deflection in the portal: while a requester describes a problem, public articles that match
appear; "This solved my problem" counts a deflection and ends the flow without a ticket."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opsdesk.core.exceptions import ServiceError
from opsdesk.knowledge import selectors, services
from opsdesk.knowledge.constants import MAX_QUERY_CHARS
from opsdesk.knowledge.models import Article
from opsdesk.knowledge.views import desk
from opsdesk.knowledge.views.articles import article_or_404


@login_required
def suggest(request):
    """An HTML fragment of the public articles matching ``q`` (empty when nothing matches).

    Public articles only, whoever types: the portal's suggestions are what a requester may read.
    With ``ticket=<number>`` (agents), the ticket panel's suggested articles and similar
    resolved tickets instead.
    """
    if "ticket" in request.GET:
        return desk.ticket_suggestions(request, (request.GET.get("ticket") or "")[:MAX_QUERY_CHARS])
    query = (request.GET.get("q") or "")[:MAX_QUERY_CHARS]
    suggestions = selectors.suggest_articles(user=request.user, query=query, public_only=True)
    return render(
        request,
        "knowledge/partials/suggestions.html",
        {"suggestions": suggestions, "query": " ".join(query.split())},
    )


@login_required
@require_POST
def solved(request, pk: int):
    """The reader's problem is solved by this article: count it, raise no ticket, say thanks."""
    article = article_or_404(request.user, pk)
    try:
        services.deflection_record(actor=request.user, article=article, query=request.POST.get("q", ""))
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    request.session["knowledge_solved"] = article.pk
    return redirect("knowledge:solved_thanks")


@login_required
def solved_thanks(request):
    pk = request.session.get("knowledge_solved")
    article = None
    if pk:
        try:
            article = selectors.article_get_for(user=request.user, pk=pk)
        except Article.DoesNotExist:  # retired or changed audience meanwhile
            article = None
    return render(request, "knowledge/solved_thanks.html", {"article": article})
