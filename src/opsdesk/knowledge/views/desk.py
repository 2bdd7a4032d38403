"""The service desk's side of the knowledge base: articles linked to tickets, known errors
published as articles, and the knowledge gaps report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opsdesk.core.exceptions import ServiceError
from opsdesk.knowledge import selectors, services
from opsdesk.knowledge.choices import ArticleStatus
from opsdesk.knowledge.constants import GAP_DAYS, GAP_MIN_TICKETS
from opsdesk.knowledge.forms import LinkArticleForm, PublishKnownErrorForm
from opsdesk.knowledge.models import Article, TicketArticle
from opsdesk.tickets.models import Problem, Ticket


def _agent(request) -> None:
    if not request.user.is_agent:
        raise Http404("Not here.")


def _ticket(request, number: str) -> Ticket:
    try:
        return Ticket.objects.restrict(request.user, "view").get(number=number)
    except Ticket.DoesNotExist as exc:
        raise Http404("No such ticket.") from exc


@login_required
@require_POST
def ticket_link(request, number: str):
    """Link the article that resolved this ticket (by number, or the id of a suggestion)."""
    _agent(request)
    ticket = _ticket(request, number)
    form = LinkArticleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["article"][0])
    else:
        try:
            article = selectors.article_get_for(user=request.user, pk=form.cleaned_data["article"])
            services.ticket_article_link(actor=request.user, ticket=ticket, article=article)
            messages.success(request, f"{article.number} linked to {ticket.number}.")
        except Article.DoesNotExist:
            messages.error(request, "There is no such article that you can read.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect(ticket.get_absolute_url() + "#knowledge")


def ticket_suggestions(request, number: str):
    """The knowledge panel's suggested articles and similar resolved tickets, as a fragment the
    ticket page loads after it is shown (the full-text searches never hold the page up)."""
    _agent(request)
    ticket = _ticket(request, number)
    linked = list(
        selectors.ticket_articles(user=request.user, ticket=ticket).values_list("article_id", flat=True)
    )
    suggestions = selectors.suggest_articles(
        user=request.user, query=ticket.title, typing=False, exclude=linked
    )
    return render(
        request,
        "knowledge/partials/ticket_suggestions.html",
        {
            "ticket": ticket,
            "suggestions": suggestions,
            "similar": selectors.similar_resolved_tickets(user=request.user, ticket=ticket),
            "can_link": not request.user.is_read_only,
        },
    )


@login_required
@require_POST
def ticket_unlink(request, pk: int):
    _agent(request)
    try:
        link = (
            TicketArticle.objects.restrict(request.user, "view")
            .select_related("ticket", "article")
            .get(pk=pk)
        )
    except TicketArticle.DoesNotExist as exc:
        raise Http404("No such link.") from exc
    try:
        services.ticket_article_unlink(actor=request.user, link=link)
        messages.success(request, f"{link.article.number} unlinked.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(link.ticket.get_absolute_url() + "#knowledge")


@login_required
def known_errors(request):
    """Known errors with a workaround, and the article each became (or a one-click publish)."""
    _agent(request)
    problems = list(
        Problem.objects.restrict(request.user, "view")
        .filter(known_error=True)
        .exclude(workaround="")
        .select_related("service")
        .order_by("-id")[:200]
    )
    articles = {}
    for article in (
        Article.objects.restrict(request.user, "view")
        .filter(problem__in=problems)
        .exclude(status=ArticleStatus.RETIRED)
    ):
        articles[article.problem_id] = article
    for problem in problems:
        problem.article = articles.get(problem.pk)
    return render(
        request, "knowledge/known_errors.html", {"problems": problems, "form": PublishKnownErrorForm()}
    )


@login_required
@require_POST
def publish_known_error(request, pk: int):
    _agent(request)
    try:
        problem = Problem.objects.restrict(request.user, "view").get(pk=pk)
    except Problem.DoesNotExist as exc:
        raise Http404("No such problem.") from exc
    form = PublishKnownErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose who reads the article.")
        return redirect("knowledge:known_errors")
    try:
        article = services.problem_publish_article(
            actor=request.user,
            problem=problem,
            audience=form.cleaned_data["audience"],
            publish=form.cleaned_data["publish"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("knowledge:known_errors")
    messages.success(
        request, f"{problem.number} is now {article.number} ({article.get_status_display().lower()})."
    )
    return redirect(article.get_absolute_url())


def _bounded(raw, default: int, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


@login_required
def gaps(request):
    """Where tickets pile up without an article, and the articles readers find unhelpful."""
    _agent(request)
    days = _bounded(request.GET.get("days"), GAP_DAYS, 1, 365)
    min_tickets = _bounded(request.GET.get("min"), GAP_MIN_TICKETS, 1, 10_000)
    report = selectors.knowledge_gaps(user=request.user, days=days, min_tickets=min_tickets)
    return render(
        request, "knowledge/gaps.html", {"report": report, "days": days, "min_tickets": min_tickets}
    )
