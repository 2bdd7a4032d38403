"""The requester's and the approver's pages of the request catalogue.

Requesters browse what they may order, order it (for themselves or a colleague) and follow
their orders; the order itself is a service request ticket, whose page shows the request
panel (``catalog/partials/request_panel.html``). Approvers decide from their inbox or from
the signed one-click link in their e-mail (no sign-in: the token is the proof; GET only
shows the choice, because mail scanners follow links), and arrange stand-ins for their
absences. Every read is restricted to what the reader may see; every write is a service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, register_converter, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from opsdesk.accounts.models import User
from opsdesk.catalog import selectors
from opsdesk.catalog.choices import (
    OPEN_REQUEST_STATES,
    ApprovalState,
    ApproverKind,
    Decision,
    RequestState,
)
from opsdesk.catalog.constants import RESERVED_ITEM_SLUGS
from opsdesk.catalog.forms.approvals import DecisionForm, DelegationForm
from opsdesk.catalog.forms.order import OrderForm
from opsdesk.catalog.formspec import answers_display
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalStep,
    CatalogItem,
)
from opsdesk.catalog.services.approvals import (
    approval_decide,
    approval_from_token,
    delegation_delete,
    delegation_save,
)
from opsdesk.catalog.services.ordering import expected_delivery, request_order
from opsdesk.catalog.templatetags.catalog import panel_for
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.richtext import render_markdown
from opsdesk.core.views import add_service_error, style_form
from opsdesk.tickets.models import Ticket

PAGE_SIZE = 24
REQUESTS_PAGE_SIZE = 20
MAX_QUERY_CHARS = 200
INBOX_LIMIT = 200
RECENTLY_DECIDED = 10
DELEGATIONS_LIMIT = 200
# Link errors a person can do nothing about but use the inbox: gone for good (410), or a
# link that was never valid (400).
LINK_GONE = {"link_expired", "already_decided"}
LINK_TITLES = {
    "link_expired": "This link has expired",
    "already_decided": "This approval is already decided",
    "link_invalid": "This link does not work",
}


class ItemSlugConverter:
    """An item's slug, but never the first word of another catalogue page (``tasks``,
    ``manage``…): those routes come after the portal's in ``catalog/urls.py``."""

    regex = r"(?!(?:{})/)[-a-zA-Z0-9_]+".format("|".join(RESERVED_ITEM_SLUGS))

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ItemSlugConverter, "catalog_item")


def _posted_version(request) -> int | None:
    try:
        value = int(request.POST.get("version", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _refuse_read_only(user: User) -> None:
    if user.is_read_only:
        raise PermissionDenied("Read-only roles order and decide nothing.")


# --- browsing and ordering --------------------------------------------------------------------
@login_required
def browse(request):
    """The catalogue's shelves, a search box and the items the person may order."""
    user = request.user
    query = " ".join((request.GET.get("q") or "").replace("\x00", "").split())[:MAX_QUERY_CHARS]
    categories = [category for category, _count in selectors.categories_for(user=user)]
    slug = request.GET.get("category") or ""
    category = next((each for each in categories if each.slug == slug), None)
    if slug and category is None:
        items = CatalogItem.objects.none()  # a shelf with nothing for this person
    else:
        items = selectors.items_for(user=user, category=category, query=query)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/portal/browse.html",
        {
            "categories": categories,
            "category": category,
            "unknown_category": bool(slug and category is None),
            "query": query,
            "max_query": MAX_QUERY_CHARS,
            "page_obj": page,
            "items": page.object_list,
        },
    )


def _item_or_404(user: User, slug: str) -> CatalogItem:
    try:
        return selectors.items_for(user=user).select_related("offering__service__owner").get(slug=slug)
    except CatalogItem.DoesNotExist as exc:
        raise Http404("No item here.") from exc


def approver_words(*, item: CatalogItem, user: User) -> list[str]:
    """Who approves an order of ``item``, step by step, in words the requester understands."""
    steps = ApprovalStep.objects.filter(item=item).select_related("group", "person").order_by("position")
    words = []
    for step in steps:
        if step.kind == ApproverKind.MANAGER:
            if user.manager_id:
                text = f"Your manager, {user.manager}"
            else:
                text = (
                    "Your manager — but we have no manager recorded for you, so the order "
                    "cannot go through yet: ask the service desk to record them"
                )
        elif step.kind == ApproverKind.SERVICE_OWNER:
            service = item.offering.service
            owner = service.owner
            text = f"The owner of {service.name}" + (f", {owner}" if owner else "")
        elif step.kind == ApproverKind.GROUP:
            group = step.group.name if step.group else "an approval group"
            text = f"One of {group}" if step.required == 1 else f"{step.required} people of {group}"
        else:
            text = str(step.person) if step.person else "A named person"
        if step.name and step.name.strip().lower() not in text.lower():
            text = f"{step.name}: {text}"
        words.append(text)
    return words


def _order_form(item: CatalogItem, user: User, **kwargs: Any) -> OrderForm:
    form = OrderForm(item, requester=user, **kwargs)
    style_form(form)
    return form


def _render_item(request, item: CatalogItem, form: OrderForm, *, status: int = 200):
    user = request.user
    return render(
        request,
        "catalog/portal/item.html",
        {
            "item": item,
            "form": form,
            "description_html": render_markdown(item.description) if item.description else "",
            "expected_at": expected_delivery(item=item, start=timezone.now()),
            "steps": approver_words(item=item, user=user),
            "can_order": not user.is_read_only,
            "cannot_order_reason": "Your role reads the catalogue but orders nothing.",
        },
        status=status,
    )


@login_required
def item(request, slug: str):
    """One item: what it is, what it costs, when it comes, who approves, and its order form."""
    found = _item_or_404(request.user, slug)
    return _render_item(request, found, _order_form(found, request.user))


@login_required
@require_http_methods(["GET", "POST"])
def order(request, slug: str):
    """Place the order; it becomes a service request ticket, where the person follows it."""
    user = request.user
    found = _item_or_404(user, slug)
    if request.method == "GET":
        return redirect(found.get_absolute_url() + "#order")
    _refuse_read_only(user)
    form = _order_form(found, user, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            placed = request_order(
                actor=user,
                item=found,
                answers=form.cleaned_answers,
                files=form.cleaned_files,
                requested_for=form.cleaned_data.get("requested_for") or user,
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            waiting = (
                "It now waits for approval"
                if placed.state == RequestState.AWAITING_APPROVAL
                else "We are on it"
            )
            messages.success(
                request,
                f"Thank you — your order of {found.name} is {placed.ticket.number}. {waiting}; "
                "follow it here.",
            )
            return redirect(placed.ticket.get_absolute_url())
    return _render_item(request, found, form, status=400)


# --- following orders ----------------------------------------------------------------------
@login_required
def my_requests(request):
    """What the person ordered, or had ordered for them: under way, or finished."""
    user = request.user
    show_closed = request.GET.get("show") == "closed"
    orders = selectors.my_requests(user=user)
    open_states = list(OPEN_REQUEST_STATES)
    orders = orders.exclude(state__in=open_states) if show_closed else orders.filter(state__in=open_states)
    page = Paginator(orders.order_by("-created_at", "-pk"), REQUESTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "catalog/portal/my_requests.html",
        {
            "page_obj": page,
            "requests": page.object_list,
            "show_closed": show_closed,
            "open_states": open_states,
        },
    )


@login_required
def request_detail(request, number: str):
    """A request's address: its ticket page, or, for an approver who may not read the ticket,
    their approval of it."""
    user = request.user
    found = selectors.requests_for(user=user).filter(ticket__number=number).first()
    if found is None:
        raise Http404("No request here.")
    if Ticket.objects.restrict(user, "view").filter(pk=found.ticket_id).exists():
        return redirect(found.ticket.get_absolute_url())
    mine = (
        Approval.objects.restrict(user, "view")
        .filter(request=found)
        .filter(Q(approver=user) | Q(delegated_from=user))
        .order_by("step", "pk")
        .first()
    )
    if mine is None:
        raise Http404("No request here.")
    return redirect(mine.get_absolute_url())


# --- approving -----------------------------------------------------------------------------
@login_required
def approvals(request):
    """The approver's inbox: what waits for them (also as a stand-in), and what they decided."""
    user = request.user
    pending = list(selectors.approvals_inbox(user=user)[:INBOX_LIMIT])
    decided = list(
        Approval.objects.restrict(user, "view")
        .filter(decided_by=user)
        .select_related("request__ticket", "request__item", "request__requested_for")
        .order_by("-decided_at", "-pk")[:RECENTLY_DECIDED]
    )
    standing_in_for = list(User.objects.filter(pk__in=selectors.standing_in_for(user=user)))
    return render(
        request,
        "catalog/portal/approvals.html",
        {"pending": pending, "decided": decided, "standing_in_for": standing_in_for},
    )


APPROVAL_RELATED = (
    "request__ticket",
    "request__item",
    "request__requested_for",
    "request__ordered_by",
    "approver",
    "delegated_from",
    "decided_by",
)


def _approval_or_404(user: User, pk: int) -> Approval:
    """The approval if the user may see it: theirs, their request's, or one waiting on someone
    they stand in for today."""
    found = Approval.objects.restrict(user, "view").select_related(*APPROVAL_RELATED).filter(pk=pk).first()
    if found is None:
        found = selectors.approvals_inbox(user=user).select_related(*APPROVAL_RELATED).filter(pk=pk).first()
    if found is None:
        raise Http404("No approval here.")
    return found


def _may_decide(user: User, approval: Approval) -> bool:
    if user.is_read_only or approval.state != ApprovalState.PENDING:
        return False
    if approval.request.state != RequestState.AWAITING_APPROVAL:
        return False
    if approval.approver_id == user.pk:
        return True
    return selectors.standing_in_for(user=user).filter(approver_id=approval.approver_id).exists()


def _render_approval(request, approval: Approval, form: DecisionForm, *, status: int = 200, conflict=None):
    user = request.user
    order_ = approval.request
    return render(
        request,
        "catalog/portal/approval.html",
        {
            "approval": approval,
            "order": order_,
            "answers": answers_display(order_.form, order_.answers),
            "form": form,
            "can_decide": _may_decide(user, approval),
            "panel": panel_for(order=order_, user=user),
            "conflict": conflict,
        },
        status=status,
    )


def _decision_form(data=None, *, decision: str | None = None) -> DecisionForm:
    initial = {"decision": decision} if decision in Decision.values else {}
    form = DecisionForm(data, initial=initial)
    style_form(form)
    return form


@login_required
@require_http_methods(["GET", "POST"])
def approval(request, pk: int):
    """One approval: the order with its answers, where its approval stands, and the decision."""
    user = request.user
    found = _approval_or_404(user, pk)
    if request.method == "GET":
        return _render_approval(request, found, _decision_form(decision=request.GET.get("decision")))
    _refuse_read_only(user)
    form = _decision_form(request.POST)
    if not form.is_valid():
        return _render_approval(request, found, form, status=400)
    try:
        decided = approval_decide(
            actor=user,
            approval=found,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
            expected_version=_posted_version(request),
        )
    except ConcurrencyConflict as exc:
        current = _approval_or_404(user, pk)
        return _render_approval(
            request, current, _decision_form(request.POST), status=409, conflict=exc.message
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        # A refusal about a field goes on the form; "already decided" and the like above it.
        notice = None
        if exc.field or exc.errors:
            add_service_error(form, exc)
        else:
            notice = exc.message
        status = 409 if exc.code == "already_decided" else 400
        return _render_approval(request, _approval_or_404(user, pk), form, status=status, conflict=notice)
    verb = "approved" if decided.state == ApprovalState.APPROVED else "rejected"
    messages.success(request, f"You {verb} {found.request.item.name} for {found.request.requested_for}.")
    return redirect("catalog:approvals")


def _link_error(request, exc: ServiceError):
    status = 410 if exc.code in LINK_GONE else 400
    return render(
        request,
        "catalog/portal/approval_link_error.html",
        {
            "status": status,
            "title": LINK_TITLES.get(exc.code, "This link does not work"),
            "message": exc.message,
            "advice": "Your approvals inbox always shows what waits for you.",
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def approval_link(request, token: str):
    """The signed one-click link from the approval e-mail, without signing in. GET shows the
    order with the decision chosen in the e-mail; the button POSTs it (with a comment)."""
    try:
        found, decision = approval_from_token(token)
    except ServiceError as exc:
        return _link_error(request, exc)
    order_ = found.request
    context: dict[str, Any] = {
        "approval": found,
        "order": order_,
        "answers": answers_display(order_.form, order_.answers),
        "done": False,
    }
    form = _decision_form(request.POST or None, decision=decision)
    if request.method == "POST" and form.is_valid():
        try:
            found = approval_decide(
                actor=found.approver,
                approval=found,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ServiceError as exc:
            if exc.code in LINK_GONE:
                return _link_error(request, exc)
            add_service_error(form, exc)
        else:
            context.update(approval=found, done=True)
            return render(request, "catalog/portal/approval_link.html", context)
    context["form"] = form
    return render(
        request, "catalog/portal/approval_link.html", context, status=400 if request.method == "POST" else 200
    )


# --- stand-ins --------------------------------------------------------------------------------
@login_required
def delegations(request):
    """Who stands in for the person (managers: anyone's current stand-ins), and for whom they do."""
    user = request.user
    today = timezone.localdate()
    visible = ApprovalDelegation.objects.restrict(user, "view").select_related("approver", "delegate")
    if user.is_manager:
        mine = visible.filter(Q(approver=user) | Q(ends_on__gte=today)).order_by("starts_on", "pk")
    else:
        mine = visible.filter(approver=user).order_by("-starts_on", "-pk")
    standing_in = visible.filter(delegate=user, ends_on__gte=today).order_by("starts_on", "pk")
    return render(
        request,
        "catalog/portal/delegations.html",
        {
            "mine": list(mine[:DELEGATIONS_LIMIT]),
            "standing_in": list(standing_in[:DELEGATIONS_LIMIT]),
            "today": today,
            "can_add": not user.is_read_only,
        },
    )


def _delegation_or_404(user: User, pk: int, action: str) -> ApprovalDelegation:
    visible = ApprovalDelegation.objects.restrict(user, "view").select_related("approver", "delegate")
    found = visible.filter(pk=pk).first()
    if found is None:
        raise Http404("No stand-in here.")
    if user.is_read_only or not ApprovalDelegation.objects.restrict(user, action).filter(pk=pk).exists():
        raise PermissionDenied("You may not change this stand-in.")
    return found


@login_required
@require_http_methods(["GET", "POST"])
def delegation_edit(request, pk: int | None = None):
    """Add or change a stand-in through ``delegation_save`` (which checks the dates and who)."""
    user = request.user
    _refuse_read_only(user)
    current = _delegation_or_404(user, pk, "change") if pk is not None else None
    form = DelegationForm(request.POST or None, actor=user, delegation=current)
    style_form(form)
    version = current.version if current else None
    status, conflict = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                delegation_save(
                    actor=user,
                    delegation=current,
                    data=form.service_data(),
                    expected_version=_posted_version(request) if current else None,
                )
            except ConcurrencyConflict as exc:
                status, conflict = 409, exc.message
                version = (
                    ApprovalDelegation.objects.filter(pk=current.pk).values_list("version", flat=True).first()
                )
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, "Stand-in saved.")
                return redirect("catalog:delegations")
    return render(
        request,
        "catalog/portal/delegation_form.html",
        {"form": form, "delegation": current, "version": version, "conflict": conflict},
        status=status,
    )


@login_required
@require_POST
def delegation_remove(request, pk: int):
    """End a stand-in (the approvals handed over come back to the person)."""
    user = request.user
    current = _delegation_or_404(user, pk, "delete")
    try:
        delegation_delete(actor=user, delegation=current, expected_version=_posted_version(request))
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{current.delegate} no longer stands in for {current.approver}.")
    return redirect(reverse("catalog:delegations"))


urlpatterns = [
    path("", browse, name="browse"),
    path("requests/", my_requests, name="my_requests"),
    path("requests/<str:number>/", request_detail, name="request"),
    path("approvals/", approvals, name="approvals"),
    path("approvals/<int:pk>/", approval, name="approval"),
    path("approve/<str:token>/", approval_link, name="approval_link"),
    path("delegations/", delegations, name="delegations"),
    path("delegations/add/", delegation_edit, name="delegation_add"),
    path("delegations/<int:pk>/", delegation_edit, name="delegation_edit"),
    path("delegations/<int:pk>/delete/", delegation_remove, name="delegation_delete"),
    path("<catalog_item:slug>/", item, name="item"),
    path("<catalog_item:slug>/order/", order, name="order"),
]
