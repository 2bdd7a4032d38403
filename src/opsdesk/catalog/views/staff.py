"""The staff's screens of the request catalogue: maintaining items (with the form builder, the
approval steps and the task plan), categories and approval groups (managers), and the
fulfilment task queue and task page (support staff).

Thin: reads start from ``restrict()`` or a selector, writes go through the services, and a
service's refusal comes back on the field or row it names with nothing written."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from opsdesk.accounts.models import Team, TeamMembership, User
from opsdesk.catalog import formspec, selectors
from opsdesk.catalog.choices import OPEN_TASK_STATES, FieldType, TaskState
from opsdesk.catalog.forms.staff import (
    ApprovalGroupForm,
    ApprovalStepFormSet,
    CategoryForm,
    ItemForm,
    TaskCancelForm,
    TaskCompleteForm,
    TaskPlanFormSet,
)
from opsdesk.catalog.models import ApprovalGroup, CatalogCategory, CatalogItem, RequestTask
from opsdesk.catalog.services import fulfilment, items
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.richtext import render_markdown
from opsdesk.core.views import add_service_error, style_form
from opsdesk.portfolio.models import Offering

ITEMS_PAGE_SIZE = 50
TASKS_PAGE_SIZE = 50
SECONDS_PER_MINUTE = 60
# A task is "due soon" (amber) when less than this share of its target is left.
DUE_SOON_SHARE = 0.25
TASK_ACTIONS = ("start", "assign_me", "complete", "cancel")


# --- shared ------------------------------------------------------------------------------------
def _require_manager_of(user: User, model: type) -> None:
    """Maintaining the catalogue is the managers' (the permission rules say who)."""
    if not user_can(user, "add", model):
        raise PermissionDenied("Only managers maintain the request catalogue.")


def _require_agent(user: User) -> None:
    if not user.is_agent:
        raise PermissionDenied("The fulfilment queue is for support staff.")


def _posted_version(raw: str | None) -> int | None:
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value is None or value > 0 else None


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _one(queryset, **lookup):
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("Nothing here.")
    return obj


# --- items -------------------------------------------------------------------------------------
@login_required
def items_manage(request):
    """Every item with its category, offering, price, state and how often it was ordered."""
    user = request.user
    _require_manager_of(user, CatalogItem)
    queryset = (
        CatalogItem.objects.restrict(user, "view")
        .select_related("category", "offering__service")
        .annotate(request_count=Count("requests"))
    )
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    offering = request.GET.get("offering", "")
    active = request.GET.get("active", "")
    if query:
        queryset = queryset.filter(Q(name__icontains=query) | Q(summary__icontains=query))
    if category.isdigit():
        queryset = queryset.filter(category_id=int(category))
    if offering.isdigit():
        queryset = queryset.filter(offering_id=int(offering))
    if active in ("yes", "no"):
        queryset = queryset.filter(is_active=active == "yes")
    queryset = queryset.order_by("category__position", "category__name", "position", "name", "pk")
    page = Paginator(queryset, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "items": page.object_list,
        "query": query,
        "category": category,
        "offering": offering,
        "active": active,
        "categories": CatalogCategory.objects.restrict(user, "view"),
        "offerings": Offering.objects.restrict(user, "view")
        .filter(pk__in=CatalogItem.objects.values("offering_id"))
        .select_related("service"),
        "filter_active": bool(query or category or offering or active),
        "can_add": user_can(user, "add", CatalogItem),
        "has_categories": CatalogCategory.objects.exists(),
    }
    return render(request, "catalog/staff/items.html", context)


def _people_for_steps(user: User):
    return User.objects.restrict(user, "view").filter(is_active=True).order_by("last_name", "first_name")


def _steps_formset(request, item: CatalogItem, data=None) -> ApprovalStepFormSet:
    groups = ApprovalGroup.objects.restrict(request.user, "view").annotate(member_count=Count("members"))
    initial = [
        {
            "name": step.name,
            "kind": step.kind,
            "group": step.group_id,
            "person": step.person_id,
            "required": step.required,
            "remind_after_hours": step.remind_after_hours,
            "escalate_after_hours": step.escalate_after_hours,
        }
        for step in item.approval_steps.order_by("position")
    ]
    formset = ApprovalStepFormSet(
        data,
        initial=initial,
        prefix="steps",
        form_kwargs={"groups": groups, "people": _people_for_steps(request.user)},
    )
    for form in formset.forms:
        form.fields["group"].label_from_instance = lambda g: f"{g.name} ({g.member_count} members)"
        style_form(form, small=True)
    return formset


def _tasks_formset(request, item: CatalogItem, data=None) -> TaskPlanFormSet:
    teams = Team.objects.restrict(request.user, "view")
    initial = [
        {
            "stage": task.stage,
            "name": task.name,
            "team": task.team_id,
            "target_minutes": task.target_minutes,
            "instructions": task.instructions,
        }
        for task in item.task_templates.order_by("stage", "pk")
    ]
    formset = TaskPlanFormSet(data, initial=initial, prefix="tasks", form_kwargs={"teams": teams})
    for form in formset.forms:
        style_form(form, small=True)
    return formset


def _item_form(request, item: CatalogItem | None, data=None, files=None) -> ItemForm:
    form = ItemForm(data, files, instance=item, actor=request.user)
    style_form(form)
    return form


def _render_item_page(
    request,
    item: CatalogItem | None,
    *,
    form: ItemForm | None = None,
    steps=None,
    tasks=None,
    version: int | None = None,
    conflict: str = "",
    status: int = 200,
):
    context = {
        "item": item,
        "form": form or _item_form(request, item),
        "version": version if version is not None else (item.version if item else None),
        "conflict": conflict,
        "field_types": FieldType.choices,
        "can_delete": item is not None and user_can(request.user, "delete", CatalogItem),
    }
    if item is not None:
        context["steps"] = steps if steps is not None else _steps_formset(request, item)
        context["tasks"] = tasks if tasks is not None else _tasks_formset(request, item)
        context["request_count"] = item.requests.count()
    return render(request, "catalog/staff/item_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request, pk: int | None = None):
    """Add (no ``pk``) or edit an item's fields, pictures, who may order it and its form."""
    user = request.user
    _require_manager_of(user, CatalogItem)
    item = _one(CatalogItem.objects.restrict(user, "change"), pk=pk) if pk is not None else None
    if request.method == "GET":
        return _render_item_page(request, item)
    form = _item_form(request, item, request.POST, request.FILES)
    version = _posted_version(request.POST.get("version"))
    if item is not None and version is None:
        form.add_error(None, "This form is missing the version you edited. Reload the page and try again.")
        return _render_item_page(request, item, form=form, status=400)
    if not form.is_valid():
        return _render_item_page(request, item, form=form, version=version, status=400)
    try:
        saved = items.item_save(actor=user, item=item, data=form.service_data(), expected_version=version)
    except ConcurrencyConflict as exc:
        item.refresh_from_db()
        form.add_error(None, exc.message)
        return _render_item_page(
            request, item, form=form, version=item.version, conflict=exc.message, status=409
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        add_service_error(form, exc)
        return _render_item_page(request, item, form=form, version=version, status=400)
    messages.success(request, f"{saved} {'saved' if item else 'created'}.")
    return HttpResponseRedirect(reverse("catalog:item_edit", args=[saved.pk]))


def _save_rows(request, item: CatalogItem, formset, save, *, noun: str, row_noun: str, anchor: str):
    """Replace the item's steps or plan with the formset's rows; errors go back on the rows."""
    if formset.is_valid():
        rows = formset.rows()
        try:
            save(rows, _posted_version(request.POST.get("version")))
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            formset.add_row_errors(exc, rows)
            status = 409 if isinstance(exc, ConcurrencyConflict) else 400
            item.refresh_from_db()
            return None, status
        messages.success(request, f"{noun} of {item} saved: {_count(len(rows), row_noun)}.")
        return HttpResponseRedirect(reverse("catalog:item_edit", args=[item.pk]) + f"#{anchor}"), 200
    return None, 400


@login_required
@require_http_methods(["POST"])
def item_steps(request, pk: int):
    """Replace the item's approval steps with the rows of the steps editor."""
    item = _one(CatalogItem.objects.restrict(request.user, "change"), pk=pk)
    formset = _steps_formset(request, item, request.POST)

    def save(rows, version):
        steps = [row.step_data(position) for position, row in enumerate(rows, start=1)]
        items.approval_steps_save(actor=request.user, item=item, steps=steps, expected_version=version)

    response, status = _save_rows(
        request, item, formset, save, noun="Approval", row_noun="step", anchor="approvals"
    )
    return response or _render_item_page(request, item, steps=formset, status=status)


@login_required
@require_http_methods(["POST"])
def item_tasks(request, pk: int):
    """Replace the item's fulfilment plan with the rows of the plan editor."""
    item = _one(CatalogItem.objects.restrict(request.user, "change"), pk=pk)
    formset = _tasks_formset(request, item, request.POST)

    def save(rows, version):
        tasks = [row.task_data() for row in rows]
        items.task_plan_save(actor=request.user, item=item, tasks=tasks, expected_version=version)

    response, status = _save_rows(
        request, item, formset, save, noun="Fulfilment plan", row_noun="task", anchor="plan"
    )
    return response or _render_item_page(request, item, tasks=formset, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def item_delete(request, pk: int):
    item = _one(CatalogItem.objects.restrict(request.user, "delete"), pk=pk)
    error = ""
    if request.method == "POST":
        try:
            items.item_delete(
                actor=request.user, item=item, expected_version=_posted_version(request.POST.get("version"))
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, f"{item} deleted.")
            return HttpResponseRedirect(reverse("catalog:items_manage"))
    context = {"item": item, "error": error, "request_count": item.requests.count()}
    return render(request, "catalog/staff/item_delete.html", context, status=400 if error else 200)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- categories --------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def categories(request):
    """The shelves of the catalogue: a list where each row is edited in place, plus a new row."""
    user = request.user
    _require_manager_of(user, CatalogCategory)
    queryset = CatalogCategory.objects.restrict(user, "view").annotate(item_count=Count("items"))
    forms_by_pk: dict[int | None, CategoryForm] = {}
    status = 200
    if request.method == "POST":
        pk = request.POST.get("pk", "")
        category = (
            _one(CatalogCategory.objects.restrict(user, "change"), pk=int(pk)) if pk.isdigit() else None
        )
        version = _posted_version(request.POST.get("version"))
        try:
            if request.POST.get("action") == "delete" and category is not None:
                items.category_delete(actor=user, category=category, expected_version=version)
                messages.success(request, f"{category} deleted.")
                return HttpResponseRedirect(reverse("catalog:categories"))
            form = CategoryForm(request.POST, instance=category, prefix=f"c{pk or 'new'}")
            if form.is_valid():
                saved = items.category_save(
                    actor=user, category=category, data=form.cleaned_data, expected_version=version
                )
                messages.success(request, f"{saved} {'saved' if category else 'added'}.")
                return HttpResponseRedirect(reverse("catalog:categories"))
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form = CategoryForm(request.POST, instance=category, prefix=f"c{pk or 'new'}")
            form.is_valid()
            add_service_error(form, exc)
            status = 409 if isinstance(exc, ConcurrencyConflict) else 400
        forms_by_pk[category.pk if category else None] = form
        status = max(status, 400)
    rows = []
    for category in queryset:
        form = forms_by_pk.get(category.pk) or CategoryForm(instance=category, prefix=f"c{category.pk}")
        _row_form(form, f"category-form-{category.pk}")
        rows.append((category, form))
    new_form = forms_by_pk.get(None) or CategoryForm(prefix="cnew")
    _row_form(new_form, "category-form-new")
    context = {"rows": rows, "new_form": new_form}
    return render(request, "catalog/staff/categories.html", context, status=status)


def _row_form(form: CategoryForm, form_id: str) -> None:
    """A table row's inputs belong to the row's own form (forms cannot nest in a table)."""
    style_form(form, small=True)
    for field in form.fields.values():
        field.widget.attrs["form"] = form_id


# --- approval groups -------------------------------------------------------------------------
@login_required
def groups(request):
    user = request.user
    _require_manager_of(user, ApprovalGroup)
    queryset = ApprovalGroup.objects.restrict(user, "view").annotate(
        member_count=Count("members", distinct=True), step_count=Count("steps", distinct=True)
    )
    return render(request, "catalog/staff/groups.html", {"groups": queryset})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, pk: int | None = None):
    user = request.user
    _require_manager_of(user, ApprovalGroup)
    group = _one(ApprovalGroup.objects.restrict(user, "change"), pk=pk) if pk is not None else None
    form = ApprovalGroupForm(request.POST or None, instance=group, actor=user)
    style_form(form)
    version = group.version if group else None
    status = 200
    if request.method == "POST":
        version = _posted_version(request.POST.get("version"))
        if form.is_valid():
            try:
                saved = items.approval_group_save(
                    actor=user, group=group, data=form.service_data(), expected_version=version
                )
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except ServiceError as exc:
                add_service_error(form, exc)
                if isinstance(exc, ConcurrencyConflict):
                    group.refresh_from_db()
                    version = group.version
            else:
                messages.success(request, f"{saved} {'saved' if group else 'created'}.")
                return HttpResponseRedirect(reverse("catalog:groups"))
        status = 400
    steps = group.steps.select_related("item") if group else []
    context = {"group": group, "form": form, "version": version, "steps": steps}
    return render(request, "catalog/staff/group_form.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def group_delete(request, pk: int):
    group = _one(ApprovalGroup.objects.restrict(request.user, "delete"), pk=pk)
    try:
        items.approval_group_delete(
            actor=request.user, group=group, expected_version=_posted_version(request.POST.get("version"))
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("catalog:group_edit", args=[group.pk]))
    messages.success(request, f"{group} deleted.")
    return HttpResponseRedirect(reverse("catalog:groups"))


# --- the fulfilment queue ------------------------------------------------------------------
@dataclass(frozen=True)
class DueIn:
    text: str
    css: str
    label: str


def _duration(seconds: float) -> str:
    minutes = int(abs(seconds)) // SECONDS_PER_MINUTE
    if minutes < 1:
        return "<1m"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def due_in(task: RequestTask, now) -> DueIn:
    """The due cell: words and a colour (the SLA queue's classes) for a task's target."""
    if task.state in (TaskState.DONE, TaskState.CANCELLED):
        return DueIn(task.get_state_display().lower(), "sla-met", task.get_state_display())
    if task.due_at is None:
        return DueIn("—", "sla-none", "Not open yet")
    left = (task.due_at - now).total_seconds()
    if left <= 0:
        return DueIn(f"overdue {_duration(left)}", "sla-breached", "Overdue")
    if left < task.target_minutes * SECONDS_PER_MINUTE * DUE_SOON_SHARE:
        return DueIn(f"{_duration(left)} left", "sla-warning", "Due soon")
    return DueIn(f"{_duration(left)} left", "sla-on-track", "On track")


def _queue_teams(user: User):
    teams = Team.objects.restrict(user, "view")
    if user.can_read_all:
        return teams
    return teams.filter(pk__in=TeamMembership.objects.filter(user=user).values("team_id"))


def _works_in(user: User, team: Team) -> bool:
    """Who may work a team's tasks (the fulfilment service checks it again)."""
    if user.is_read_only:
        return False
    return (
        user.is_manager
        or team.lead_id == user.pk
        or TeamMembership.objects.filter(team=team, user=user).exists()
    )


@login_required
def tasks(request):
    """My teams' open fulfilment tasks, the most urgent first."""
    user = request.user
    _require_agent(user)
    teams = list(_queue_teams(user))
    team = next((t for t in teams if str(t.pk) == request.GET.get("team", "")), None)
    mine = request.GET.get("mine") == "1"
    # Soonest due first (the selector's order); the requester's names come along in the same query.
    queryset = selectors.tasks_for_teams(user=user, team=team, states=OPEN_TASK_STATES).select_related(
        "request__ordered_by"
    )
    if mine:
        queryset = queryset.filter(assignee=user)
    page = Paginator(queryset, TASKS_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(task, due_in(task, now)) for task in page.object_list]
    context = {
        "rows": rows,
        "page_obj": page,
        "teams": teams,
        "team": team,
        "mine": mine,
        "filter_active": bool(team or mine),
    }
    return render(request, "catalog/staff/tasks.html", context)


def _task_for(user: User, number: str) -> RequestTask:
    return _one(
        RequestTask.objects.restrict(user, "view").select_related(
            "request__ticket",
            "request__ordered_by",
            "request__requested_for",
            "request__item",
            "team",
            "assignee",
        ),
        number=number,
    )


@login_required
@require_http_methods(["GET", "POST"])
def task(request, number: str):
    """One task: what to do, the request's answers, and start / take / complete / cancel."""
    user = request.user
    _require_agent(user)
    task_ = _task_for(user, number)
    complete_form, cancel_form = TaskCompleteForm(), TaskCancelForm()
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        version = _posted_version(request.POST.get("version"))
        try:
            if action not in TASK_ACTIONS:
                raise ServiceError("Choose start, take, complete or cancel.", code="invalid_action")
            if action == "start":
                fulfilment.task_start(actor=user, task=task_, expected_version=version)
                done = f"{task_.number} started."
            elif action == "assign_me":
                fulfilment.task_assign(actor=user, task=task_, assignee=user, expected_version=version)
                done = f"{task_.number} is yours."
            elif action == "complete":
                complete_form = TaskCompleteForm(request.POST)
                if not complete_form.is_valid():
                    raise ServiceError("Check the note.", code="invalid")
                fulfilment.task_complete(
                    actor=user, task=task_, note=complete_form.cleaned_data["note"], expected_version=version
                )
                done = f"{task_.number} completed."
            else:
                cancel_form = TaskCancelForm(request.POST)
                if not cancel_form.is_valid():
                    raise ServiceError("Say why the task is cancelled.", code="invalid", field="reason")
                fulfilment.task_cancel(
                    actor=user,
                    task=task_,
                    reason=cancel_form.cleaned_data["reason"],
                    expected_version=version,
                )
                done = f"{task_.number} cancelled."
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            error = exc.message
            status = 409 if isinstance(exc, ConcurrencyConflict) else 400
            task_ = _task_for(user, number)
        else:
            messages.success(request, done)
            return HttpResponseRedirect(_safe_next(request, reverse("catalog:task", args=[task_.number])))
    for form in (complete_form, cancel_form):
        style_form(form)
    catalog_request = task_.request
    context = {
        "task": task_,
        # Sanitised HTML: instructions are Markdown written by the catalogue's managers.
        "instructions_html": render_markdown(task_.instructions) if task_.instructions else "",
        "due": due_in(task_, timezone.now()),
        "catalog_request": catalog_request,
        "answers": formspec.answers_display(catalog_request.form, catalog_request.answers),
        "siblings": catalog_request.tasks.select_related("team", "assignee").order_by("stage", "pk"),
        "complete_form": complete_form,
        "cancel_form": cancel_form,
        "error": error,
        "is_open": task_.state in OPEN_TASK_STATES and _works_in(user, task_.team),
        "can_start": task_.state == TaskState.OPEN,
        "can_take": task_.state in OPEN_TASK_STATES and task_.assignee_id != user.pk,
    }
    return render(request, "catalog/staff/task.html", context, status=status)


urlpatterns = [
    path("manage/items/", items_manage, name="items_manage"),
    path("manage/items/add/", item_edit, name="item_add"),
    path("manage/items/<int:pk>/", item_edit, name="item_edit"),
    path("manage/items/<int:pk>/approvals/", item_steps, name="item_steps"),
    path("manage/items/<int:pk>/plan/", item_tasks, name="item_tasks"),
    path("manage/items/<int:pk>/delete/", item_delete, name="item_delete"),
    path("manage/categories/", categories, name="categories"),
    path("manage/groups/", groups, name="groups"),
    path("manage/groups/add/", group_edit, name="group_add"),
    path("manage/groups/<int:pk>/", group_edit, name="group_edit"),
    path("manage/groups/<int:pk>/delete/", group_delete, name="group_delete"),
    path("tasks/", tasks, name="tasks"),
    path("tasks/<str:number>/", task, name="task"),
]

__all__ = ["due_in", "urlpatterns"]
