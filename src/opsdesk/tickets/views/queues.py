"""The agent's queues: mine, my teams', triage, escalated, everything, and saved personal
views; sorting, chosen columns, and bulk actions that go through the services ticket by ticket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import Team, TeamMembership, User
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import record_create, record_delete
from opsdesk.core.views import offer_any_as_blank, style_form
from opsdesk.tickets import selectors, services
from opsdesk.tickets.choices import OPEN_STATUSES
from opsdesk.tickets.filtersets import TicketFilterSet
from opsdesk.tickets.forms import BulkForm, SavedViewForm
from opsdesk.tickets.models import Category, SavedView, Ticket
from opsdesk.tickets.models.views import DEFAULT_COLUMNS, QUEUE_COLUMNS, clean_columns
from opsdesk.tickets.views.common import decorate, first_error, require_agent, require_agent_writer, safe_next

PAGE_SIZE = 25
# The filters the queue's filter bar offers; any other TicketFilterSet parameter in the
# address (a saved view's "unassigned", say) still applies and is kept when filters change.
SHOWN_FILTERS = ("status", "priority", "type", "assigned_team", "service", "category", "tag")
# Parameters of the page itself, not of the filter.
PAGE_PARAMS = ("q", "sort", "page", "cols")
ORDERING = {
    "number": "id",
    "title": "title",
    "status": "status",
    "priority": "priority",
    "due": "sla_due_at",
    "requester": "requester__last_name",
    "service": "service__name",
    "team": "assigned_team__name",
    "assignee": "assignee__last_name",
    "created": "created_at",
    "updated": "updated_at",
}


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    icon: str
    empty: str


QUEUES = {
    queue.slug: queue
    for queue in (
        Queue("triage", "Triage", "funnel", "Every new ticket has a team. Nothing waits for triage."),
        Queue("mine", "My tickets", "person-check", "Nothing is assigned to you right now."),
        Queue("team", "Team queue", "people", "Your teams have no open tickets."),
        Queue("escalated", "Escalated", "arrow-up-circle", "No open ticket is escalated."),
        Queue("all", "All tickets", "collection", "No ticket matches."),
    )
}


def queue_queryset(slug: str, user: Any) -> QuerySet[Ticket]:
    base = selectors.ticket_list_for(user=user)
    if slug == "triage":
        return selectors.triage_queue_for(user=user)
    if slug == "mine":
        return base.filter(assignee=user, status__in=OPEN_STATUSES)
    if slug == "team":
        teams = TeamMembership.objects.filter(user=user).values("team_id")
        return base.filter(assigned_team_id__in=teams, status__in=OPEN_STATUSES)
    if slug == "escalated":
        return base.filter(escalation_level__gt=0, status__in=OPEN_STATUSES)
    return base


class SingleChoiceList(forms.Select):
    """A drop-down for a multiple-choice filter: one value picked here, several from a saved view."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)


def _filter_data(data: QueryDict) -> QueryDict:
    """The filter's parameters without empty values (an empty choice means "any")."""
    cleaned = QueryDict(mutable=True)
    for key in data:
        if key in PAGE_PARAMS:
            continue
        values = [value for value in data.getlist(key) if value.strip()]
        if values:
            cleaned.setlist(key, values)
    return cleaned


def _filter_form_ready(filterset: TicketFilterSet, user: Any) -> None:
    form = filterset.form
    for name in ("status", "priority"):
        field = form.fields[name]
        field.choices = [("", "Any"), *field.choices]
        field.widget = SingleChoiceList(choices=field.choices)
    form.fields["assigned_team"].label = "Team"
    # Subcategories print their parent's name: fetch it in the same query.
    form.fields["category"].queryset = Category.objects.restrict(user, "view").select_related("parent")
    offer_any_as_blank(form)
    style_form(form, small=True)


def _list_page(request, *, title: str, icon: str, empty: str, queryset, saved: SavedView | None, slug: str):
    user = request.user
    params = request.GET
    if saved is not None and not _filter_data(params) and not params.get("q"):
        params = QueryDict(mutable=True)
        for key, values in saved.filters.items():
            params.setlist(key, values)
    data = _filter_data(params)
    filterset = TicketFilterSet(data or None, queryset=queryset, request=request)
    _filter_form_ready(filterset, user)
    if data and filterset.is_valid():
        queryset = filterset.qs
    query = request.GET.get("q", "").strip()
    if query:
        queryset = queryset.filter(Q(number__icontains=query) | Q(title__icontains=query))
    sort = request.GET.get("sort") or (saved.sort if saved else "")
    if sort.lstrip("-") in ORDERING:
        path = ORDERING[sort.lstrip("-")]
        queryset = queryset.order_by(f"-{path}" if sort.startswith("-") else path, "id")
    elif slug != "triage":
        queryset = queryset.order_by("priority", "-updated_at", "id")
    raw_columns = [key for value in request.GET.getlist("cols") for key in value.split(",")]
    if raw_columns:
        columns = clean_columns(raw_columns)
    else:
        columns = saved.columns if saved and saved.columns else list(DEFAULT_COLUMNS)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    can_write = not user.is_read_only
    context = {
        "title": title,
        "icon": icon,
        "empty": empty,
        "queue_slug": slug,
        "saved": saved,
        "queues": QUEUES.values(),
        "saved_views": list(SavedView.objects.restrict(user, "view").filter(owner=user)),
        "page_obj": page,
        "tickets": decorate(page.object_list),
        "filter": filterset,
        "shown_filters": [filterset.form[name] for name in SHOWN_FILTERS],
        "kept_filters": [
            (key, value) for key in data if key not in SHOWN_FILTERS for value in data.getlist(key)
        ],
        "filter_active": bool(data or query),
        "query": query,
        "sort": sort,
        "columns": columns,
        "column_choices": [(key, label, key in columns) for key, label in QUEUE_COLUMNS.items()],
        "column_headers": [(key, QUEUE_COLUMNS[key]) for key in columns],
        "current_query": _filter_data(params).urlencode(),
        "can_write": can_write,
        "bulk_form": BulkForm(user=user) if can_write else None,
        "bulk_teams": list(Team.objects.restrict(user, "view")) if can_write else [],
        "bulk_agents": list(
            User.objects.restrict(user, "view").filter(pk__in=TeamMembership.objects.values("user_id"))
        )
        if can_write
        else [],
        "save_form": SavedViewForm(),
    }
    return render(request, "tickets/queue.html", context)


@login_required
def index(request):
    """/tickets/: agents start in their queue, requesters in the list of their tickets."""
    if request.user.is_agent:
        return redirect("tickets:queue", slug="mine")
    return redirect("tickets:requester_list")


@login_required
def queue(request, slug: str):
    require_agent(request.user)
    if slug not in QUEUES:
        raise Http404("No such queue.")
    spec = QUEUES[slug]
    return _list_page(
        request,
        title=spec.label,
        icon=spec.icon,
        empty=spec.empty,
        queryset=queue_queryset(slug, request.user),
        saved=None,
        slug=slug,
    )


def _saved_view(user: Any, pk: int) -> SavedView:
    try:
        return SavedView.objects.restrict(user, "view").get(pk=pk)
    except SavedView.DoesNotExist as exc:
        raise Http404("No saved view here.") from exc


@login_required
def saved_view(request, pk: int):
    require_agent(request.user)
    view = _saved_view(request.user, pk)
    return _list_page(
        request,
        title=view.name,
        icon="bookmark",
        empty="No ticket matches this view's filters.",
        queryset=queue_queryset("all", request.user),
        saved=view,
        slug=f"view-{view.pk}",
    )


@login_required
@require_POST
def saved_view_create(request):
    require_agent_writer(request.user)
    form = SavedViewForm(request.POST)
    back = safe_next(request, reverse("tickets:queue", args=["all"]))
    if not form.is_valid():
        messages.error(request, first_error(form))
        return HttpResponseRedirect(back)
    filters = _filter_data(QueryDict(request.POST.get("query", "")))
    columns = request.POST.get("cols", "")
    try:
        view = record_create(
            model=SavedView,
            actor=request.user,
            data={
                "owner": request.user,
                "name": form.cleaned_data["name"].strip(),
                "filters": {key: filters.getlist(key) for key in filters},
                "columns": clean_columns(columns.split(",")) if columns else list(DEFAULT_COLUMNS),
                "sort": request.POST.get("sort", "")
                if request.POST.get("sort", "").lstrip("-") in ORDERING
                else "",
            },
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(back)
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect("tickets:saved_view", pk=view.pk)


@login_required
@require_POST
def saved_view_delete(request, pk: int):
    require_agent_writer(request.user)
    view = _saved_view(request.user, pk)
    try:
        record_delete(instance=view, actor=request.user)
    except ServiceError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("tickets:queue", slug="mine")


# --- bulk actions ----------------------------------------------------------------------------
def _apply(action: str, *, actor: Any, ticket: Ticket, data: dict[str, Any], into: Ticket | None) -> None:
    if action == "assign":
        services.ticket_assign(actor=actor, ticket=ticket, team=data["team"], assignee=data.get("assignee"))
    elif action == "status":
        services.ticket_transition(
            actor=actor,
            ticket=ticket,
            to=data["status"],
            resolution_code=data.get("resolution_code") or "",
            pending_reason=data.get("pending_reason") or "",
        )
    elif action == "priority":
        services.ticket_update(
            actor=actor, ticket=ticket, data={"impact": data["impact"], "urgency": data["urgency"]}
        )
    elif action == "merge":
        services.ticket_merge(actor=actor, duplicate=ticket, into=into)


@login_required
@require_POST
def bulk(request):
    """Apply one action to many tickets, each through its service; report what each said."""
    require_agent_writer(request.user)
    user = request.user
    form = BulkForm(request.POST, user=user)
    back = safe_next(request, reverse("tickets:queue", args=["mine"]))
    if not form.is_valid():
        messages.error(request, first_error(form))
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    action, numbers = data["action"], data["tickets"]
    visible = {
        ticket.number: ticket for ticket in selectors.ticket_list_for(user=user).filter(number__in=numbers)
    }
    into = None
    if action == "merge":
        into = selectors.ticket_list_for(user=user).filter(number=data["into"].strip().upper()).first()
        if into is None:
            messages.error(request, f"There is no ticket {data['into']} to merge into.")
            return HttpResponseRedirect(back)
    done, refused = [], []
    for number in numbers:
        ticket = visible.get(number)
        if ticket is None:
            refused.append(f"{number}: not found")
            continue
        if into is not None and ticket.pk == into.pk:
            continue
        try:
            _apply(action, actor=user, ticket=ticket, data=data, into=into)
        except (ServiceError, ValidationError) as exc:
            reason = exc.message if isinstance(exc, ServiceError) else " ".join(exc.messages)
            refused.append(f"{number}: {reason}")
        else:
            done.append(number)
    if done:
        messages.success(
            request, f"Done for {len(done)} ticket{'s' if len(done) != 1 else ''}: {', '.join(done)}."
        )
    for line in refused:
        messages.warning(request, f"Not changed — {line}")
    return HttpResponseRedirect(back)
