"""The knowledge base screens: the list, an article (reading, feedback, files, lifecycle), the
editor, versions with their diff and restore, and the "Needs review" list."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opsdesk.core.exceptions import ConcurrencyConflict, ServiceError
from opsdesk.core.views import may
from opsdesk.knowledge import selectors, services, workflows
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.forms import ArticleForm, AttachForm, FeedbackForm
from opsdesk.knowledge.models import Article, ArticleAttachment, ArticleFeedback, ArticleVersion
from opsdesk.tickets.models import Category

PAGE_SIZE = 20
STATUS_BADGES = {
    ArticleStatus.DRAFT: "text-bg-secondary",
    ArticleStatus.IN_REVIEW: "text-bg-warning",
    ArticleStatus.PUBLISHED: "text-bg-success",
    ArticleStatus.RETIRED: "text-bg-light border",
}
AUDIENCE_ICONS = {Audience.PUBLIC: "globe", Audience.INTERNAL: "building", Audience.TEAM: "people"}


def article_or_404(user: Any, pk: Any, action: str = "view") -> Article:
    try:
        return selectors.article_get_for(user=user, pk=pk, action=action)
    except Article.DoesNotExist as exc:
        raise Http404("No such article.") from exc


def decorate(articles: Any) -> list[Article]:
    articles = list(articles)
    for article in articles:
        article.status_badge = STATUS_BADGES.get(article.status, "text-bg-secondary")
        article.audience_icon = AUDIENCE_ICONS.get(article.audience, "file-text")
    return articles


def _int(raw: Any) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**31 else None


@login_required
def article_list(request):
    """Articles the reader may see; agents filter by status and audience."""
    user = request.user
    query = (request.GET.get("q") or "")[:200]
    status = request.GET.get("status", "") if user.is_agent else ""
    audience = request.GET.get("audience", "") if user.is_agent else ""
    category = _int(request.GET.get("category"))
    articles = selectors.article_list_for(
        user=user, query=query, status=status, audience=audience, category=category
    )
    if not user.is_agent:
        articles = articles.order_by("-resolved_count", "-helpful_count", "title")
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/article_list.html",
        {
            "page_obj": page,
            "articles": decorate(page.object_list),
            "query": query,
            "status": status,
            "audience": audience,
            "category": category,
            "statuses": ArticleStatus.choices,
            "audiences": Audience.choices,
            "categories": Category.objects.restrict(user, "view").filter(is_active=True),
            "can_add": user.is_agent and not user.is_read_only,
            "review_count": selectors.articles_needing_review(user=user).count() if user.is_agent else 0,
        },
    )


def _detail_context(request, article: Article) -> dict[str, Any]:
    user = request.user
    feedback = ArticleFeedback.objects.filter(article=article, user=user).first()
    moves = []
    if user.is_agent and may(user, "change", article):
        publisher = services.is_publisher(actor=user, article=article)
        moves = [
            move for move in workflows.moves_from(article.status) if move.who == workflows.WRITER or publisher
        ]
    context: dict[str, Any] = {
        "article": decorate([article])[0],
        "attachments": list(article.attachments.restrict(user, "view")),
        "feedback": feedback,
        "feedback_form": FeedbackForm(initial={"comment": feedback.comment if feedback else ""}),
        "moves": moves,
        "can_change": user.is_agent and may(user, "change", article),
        "attach_form": AttachForm(),
        "query": (request.GET.get("q") or "")[:300],
        "from_portal": request.GET.get("from") == "deflect",
    }
    if user.is_agent:
        context.update(
            categories=list(article.categories.all()),
            article_services=list(article.services.all()),
            reviewers=list(article.reviewers.all()),
            recent_feedback=list(
                ArticleFeedback.objects.restrict(user, "view")
                .filter(article=article)
                .exclude(comment="")
                .select_related("user")[:10]
            ),
            version_count=article.versions.count(),
        )
    return context


@login_required
def article_detail(request, pk: int):
    article = article_or_404(request.user, pk)
    services.article_record_view(article=article)
    return render(request, "knowledge/article_detail.html", _detail_context(request, article))


@login_required
def article_edit(request, pk: int | None = None):
    """Write a new article (a draft) or edit one; every change of its text is a new version."""
    user = request.user
    article = article_or_404(user, pk, "change") if pk else None
    if not user.is_agent or user.is_read_only:
        raise PermissionDenied("Agents write articles.")
    form = ArticleForm(request.POST or None, instance=article, user=user)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        note = data.pop("note", "")
        try:
            if article is None:
                if not data.get("owner"):
                    data.pop("owner", None)
                article = services.article_create(actor=user, note=note, **data)
                messages.success(request, f"{article.number} saved as a draft.")
            else:
                changed = {name: data[name] for name in form.changed_data if name in data}
                if "audience" in changed:
                    changed["team"] = data.get("team")
                if "owner" in changed and changed["owner"] is None:
                    # An article always has an owner: an emptied field keeps the current one.
                    del changed["owner"]
                services.article_update(
                    actor=user,
                    article=article,
                    data=changed,
                    expected_version=_int(request.POST.get("version")),
                    note=note,
                )
                messages.success(request, f"{article.number} saved.")
            return redirect(article.get_absolute_url())
        except ConcurrencyConflict as exc:
            conflict = exc.message
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(
        request,
        "knowledge/article_form.html",
        {"form": form, "article": article, "conflict": conflict},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def article_transition(request, pk: int):
    article = article_or_404(request.user, pk)
    try:
        services.article_transition(
            actor=request.user,
            article=article,
            to=request.POST.get("to", ""),
            expected_version=_int(request.POST.get("version")),
        )
        messages.success(request, f"{article.number} is now {article.get_status_display().lower()}.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(article.get_absolute_url())


@login_required
@require_POST
def article_feedback(request, pk: int):
    article = article_or_404(request.user, pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say whether the article helped.")
    else:
        try:
            services.article_feedback_set(
                actor=request.user,
                article=article,
                helpful=form.cleaned_data["helpful"],
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, "Thank you for your feedback.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    target = article.get_absolute_url()
    if request.POST.get("from") == "deflect":
        target += "?from=deflect&q=" + _quoted(request.POST.get("q", ""))
    return redirect(target)


def _quoted(text: str) -> str:
    return quote(" ".join(text.split())[:300])


@login_required
@require_POST
def article_attach(request, pk: int):
    article = article_or_404(request.user, pk)
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to attach.")
    else:
        try:
            attachment = services.article_attach(
                actor=request.user, article=article, upload=form.cleaned_data["file"]
            )
            markdown = f"![{attachment.original_name}]({attachment.get_absolute_url()})"
            messages.success(
                request,
                f"{attachment.original_name} attached."
                + (f" Show it in the text with {markdown}" if attachment.is_image else ""),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect(article.get_absolute_url() + "#files")


@login_required
@require_POST
def article_detach(request, pk: int):
    try:
        attachment = (
            ArticleAttachment.objects.restrict(request.user, "view").select_related("article").get(pk=pk)
        )
    except ArticleAttachment.DoesNotExist as exc:
        raise Http404("No file here.") from exc
    try:
        services.article_detach(actor=request.user, attachment=attachment)
        messages.success(request, f"{attachment.original_name} removed.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(attachment.article.get_absolute_url() + "#files")


@login_required
def article_file(request, pk: int):
    """A file of an article; images are shown inline (their type was checked on upload)."""
    try:
        attachment = ArticleAttachment.objects.restrict(request.user, "view").get(pk=pk)
    except ArticleAttachment.DoesNotExist as exc:
        raise Http404("No file here.") from exc
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- versions -----------------------------------------------------------------------------------
def _agent_article(request, pk: int) -> Article:
    if not request.user.is_agent:
        raise Http404("No such article.")
    return article_or_404(request.user, pk)


@login_required
def article_versions(request, pk: int):
    article = _agent_article(request, pk)
    versions = list(selectors.article_versions(article=article))
    return render(
        request,
        "knowledge/article_versions.html",
        {
            "article": decorate([article])[0],
            "versions": versions,
            "can_change": may(request.user, "change", article),
        },
    )


@login_required
def article_diff(request, pk: int):
    """Two versions side by side (or as a unified diff with ``?format=unified``)."""
    article = _agent_article(request, pk)
    versions = {version.number: version for version in article.versions.select_related("author")}
    if not versions:
        raise Http404("This article has no versions.")
    newest = max(versions)
    new_number = _int(request.GET.get("new")) or newest
    old_number = _int(request.GET.get("old")) or max(new_number - 1, 1)
    if old_number not in versions or new_number not in versions:
        messages.error(request, f"Pick versions between 1 and {newest}.")
        return redirect("knowledge:versions", pk=article.pk)
    old, new = versions[old_number], versions[new_number]
    unified = request.GET.get("format") == "unified"
    return render(
        request,
        "knowledge/article_diff.html",
        {
            "article": article,
            "old": old,
            "new": new,
            "rows": [] if unified else selectors.version_diff_rows(old=old, new=new),
            "unified": selectors.version_unified_diff(old=old, new=new) if unified else "",
            "numbers": sorted(versions),
            "format": "unified" if unified else "side",
        },
    )


@login_required
@require_POST
def article_restore(request, pk: int, number: int):
    article = _agent_article(request, pk)
    try:
        version = article.versions.get(number=number)
    except ArticleVersion.DoesNotExist as exc:
        raise Http404("No such version.") from exc
    try:
        services.article_restore(actor=request.user, article=article, version=version)
        messages.success(request, f"Version {number} restored as version {article.current_version}.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(article.get_absolute_url())


@login_required
def needs_review(request):
    """Published articles past their review-by date: the reader's own first, then the rest."""
    if not request.user.is_agent:
        raise Http404("Not here.")
    due = decorate(selectors.articles_needing_review(user=request.user)[:200])
    mine = [article for article in due if article.owner_id == request.user.pk]
    others = [article for article in due if article.owner_id != request.user.pk]
    return render(request, "knowledge/needs_review.html", {"mine": mine, "others": others})
