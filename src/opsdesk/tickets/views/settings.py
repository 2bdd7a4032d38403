"""The desk's settings: routing rules, escalation rules and the escalation matrix, each team's
assignment strategy, and the categories. Agents read them; managers and admins change the
rules and the matrix; a team lead sets their own team's strategy. Every write goes through
the services, which check the rules' conditions against the registry."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.forms import BooleanField
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from opsdesk.accounts.models import Team, User
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.services import record_create, record_update
from opsdesk.core.views import ObjectDeleteView, ObjectEditView, ObjectListView, may
from opsdesk.tickets import selectors, services
from opsdesk.tickets.choices import AssignmentStrategy, Priority
from opsdesk.tickets.conditions import conditions_hold, get_condition
from opsdesk.tickets.forms import (
    CategoryForm,
    EscalationRuleForm,
    MatrixStepForm,
    QueueStrategyForm,
    RoutingRuleForm,
    RuleTestForm,
)
from opsdesk.tickets.models import (
    Category,
    EscalationMatrixStep,
    EscalationRule,
    RoutingRule,
    TeamQueueSettings,
)
from opsdesk.tickets.views import rule_editor
from opsdesk.tickets.views.common import require_agent, styled

DEFAULT_PATH = (
    "Where no step of the matrix applies, the default path is followed: a functional escalation "
    "moves the ticket to the service's escalation team of the next tier, and a hierarchical one "
    "notifies the team lead at the first level, then the managers."
)
BASICS = ("name", "description", "position", "is_active", "stop_processing")
ACTION_FIELDS = {f"actions.{name}": name for name in ("team", "assignee", "priority", "category", "tags")}


def _posted_version(request) -> int | None:
    try:
        value = int(request.POST.get("version", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _get(model: type[Model], user: Any, pk: int) -> Any:
    found = model.objects.restrict(user, "view").filter(pk=pk).first()
    if found is None:
        raise Http404(f"No {model._meta.verbose_name} here.")
    return found


def _require_write(user: Any, model: type[Model], instance: Model | None) -> None:
    allowed = user_can(user, "add", model) if instance is None else may(user, "change", instance)
    if not allowed or user.is_read_only:
        raise PermissionDenied(f"You may not change this {model._meta.verbose_name}.")


def _describe(conditions: list[dict]) -> list[str]:
    """A rule's conditions in words, for the lists."""
    words = []
    for item in conditions:
        found = get_condition(item.get("name", ""))
        label = found.label if found else f"{item.get('name')} (unknown)"
        params = "; ".join(
            f"{', '.join(str(one) for one in value) if isinstance(value, list) else value}"
            for value in (item.get("params") or {}).values()
        )
        words.append(f"{label}: {params}" if params else label)
    return words


ACTION_LABELS = {
    "team": "Team",
    "assignee": "Agent",
    "priority": "Priority",
    "category": "Category",
    "tags": "Add tags",
}


def _action_names(user: Any, rules: list[RoutingRule]) -> dict[tuple[str, Any], str]:
    """The names of the teams, people and categories the rules' actions name (one query each)."""
    wanted: dict[str, set] = {"team": set(), "assignee": set(), "category": set()}
    for rule in rules:
        for key in wanted:
            if key in (rule.actions or {}):
                wanted[key].add(rule.actions[key])
    names: dict[tuple[str, Any], str] = {}
    for key, model in (("team", Team), ("assignee", User), ("category", Category)):
        if wanted[key]:
            for pk, row in model.objects.restrict(user, "view").in_bulk(list(wanted[key])).items():
                names[(key, pk)] = str(row)
    for priority, label in Priority.choices:
        names[("priority", priority)] = label
    return names


@login_required
@require_GET
def index(request):
    require_agent(request.user)
    user = request.user
    return render(
        request,
        "tickets/settings/index.html",
        {
            "routing_count": RoutingRule.objects.restrict(user, "view").count(),
            "escalation_count": EscalationRule.objects.restrict(user, "view").count(),
            "step_count": EscalationMatrixStep.objects.restrict(user, "view").count(),
            "team_count": Team.objects.restrict(user, "view").count(),
            "category_count": Category.objects.restrict(user, "view").count(),
        },
    )


# --- routing rules --------------------------------------------------------------------------------
def _rule_test(request, rules: list[RoutingRule]) -> dict[str, Any] | None:
    """Which rules a ticket would match now, without writing anything (a dry run)."""
    if "ticket" not in request.GET:
        return None
    form = styled(RuleTestForm(request.GET), small=True)
    result: dict[str, Any] = {"form": form, "matches": [], "ticket": None}
    if not form.is_valid():
        return result
    ticket = selectors.ticket_list_for(user=request.user).filter(number=form.cleaned_data["ticket"]).first()
    if ticket is None:
        form.add_error("ticket", f"There is no ticket {form.cleaned_data['ticket']}.")
        return result
    now, applied = timezone.now(), True
    for rule in rules:
        if rule.is_active and conditions_hold(rule.conditions, ticket, now):
            result["matches"].append({"rule": rule, "applies": applied})
            if rule.stop_processing:
                applied = False
    result["ticket"] = ticket
    return result


@login_required
@require_GET
def routing_rules(request):
    require_agent(request.user)
    rules = list(RoutingRule.objects.restrict(request.user, "view").order_by("position", "id"))
    names = _action_names(request.user, rules)
    for rule in rules:
        rule.described = _describe(rule.conditions)
        rule.then = [
            f"{ACTION_LABELS[key]}: {names.get((key, value), value)}"
            for key, value in rule.actions.items()
            if key in ACTION_LABELS
        ]
    test = _rule_test(request, rules)
    return render(
        request,
        "tickets/settings/routing_rules.html",
        {
            "rules": rules,
            "can_add": user_can(request.user, "add", RoutingRule) and not request.user.is_read_only,
            "can_change": user_can(request.user, "change", RoutingRule) and not request.user.is_read_only,
            "test": test,
            "test_form": test["form"] if test else styled(RuleTestForm(), small=True),
        },
    )


@login_required
@require_POST
def routing_rule_move(request, pk: int):
    """Move a rule one place up or down: the rules are numbered afresh, ten apart."""
    rule = _get(RoutingRule, request.user, pk)
    _require_write(request.user, RoutingRule, rule)
    rules = list(RoutingRule.objects.order_by("position", "id"))
    index = next(i for i, item in enumerate(rules) if item.pk == rule.pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        try:
            with transaction.atomic():
                for place, item in enumerate(rules, start=1):
                    if item.position != place * 10:
                        services.routing_rule_save(
                            actor=request.user, rule=item, data={"position": place * 10}
                        )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, f"“{rule.name}” moved {'up' if other < index else 'down'}.")
    return HttpResponseRedirect(reverse("tickets:settings_routing"))


@dataclass(frozen=True)
class RuleScreen:
    model: type[Model]
    form_class: type
    template: str
    list_url: str
    noun: str


ROUTING = RuleScreen(
    RoutingRule,
    RoutingRuleForm,
    "tickets/settings/rule_form.html",
    "tickets:settings_routing",
    "routing rule",
)
ESCALATION = RuleScreen(
    EscalationRule,
    EscalationRuleForm,
    "tickets/settings/rule_form.html",
    "tickets:settings_escalation",
    "escalation rule",
)


def _form(screen: RuleScreen, user: Any, **kwargs: Any):
    if screen.form_class is RoutingRuleForm:
        kwargs["user"] = user
    return styled(screen.form_class(**kwargs))


def _initial(screen: RuleScreen, rule: Any) -> dict[str, Any]:
    if rule is None:
        return {}
    initial = {
        "name": rule.name,
        "description": rule.description,
        "position": rule.position,
        "is_active": rule.is_active,
    }
    if screen is ROUTING:
        actions = rule.actions or {}
        initial.update(
            stop_processing=rule.stop_processing,
            team=actions.get("team"),
            assignee=actions.get("assignee"),
            priority=actions.get("priority"),
            category=actions.get("category"),
            tags=", ".join(actions.get("tags", [])),
        )
    else:
        initial["kind"] = rule.kind
        initial["raise_priority"] = rule.raise_priority
    return initial


def _typed(screen: RuleScreen, user: Any, data: Any) -> dict[str, Any]:
    """What was typed, as the initial values of a form that shows no errors yet."""
    return {
        name: (name in data) if isinstance(field, BooleanField) else data.get(name, "")
        for name, field in screen.form_class.base_fields.items()
    }


def _save(screen: RuleScreen, request, rule: Any, form, conditions: list[dict]) -> Any:
    data = {name: form.cleaned_data[name] for name in ("name", "description", "position", "is_active")}
    data["conditions"] = conditions
    version = _posted_version(request)
    if screen is ROUTING:
        data["stop_processing"] = form.cleaned_data["stop_processing"]
        data["actions"] = form.actions()
        return services.routing_rule_save(actor=request.user, data=data, rule=rule, expected_version=version)
    data["kind"] = form.cleaned_data["kind"]
    data["raise_priority"] = form.cleaned_data["raise_priority"]
    return services.escalation_rule_save(actor=request.user, data=data, rule=rule, expected_version=version)


def _rule_edit(request, screen: RuleScreen, pk: int | None):
    user = request.user
    rule = _get(screen.model, user, pk) if pk is not None else None
    _require_write(user, screen.model, rule)
    version = rule.version if rule else None
    status = 200
    if request.method != "POST":
        form = _form(screen, user, initial=_initial(screen, rule))
        rows = rule_editor.rows_from_conditions(rule.conditions if rule else [], user)
        return _render_rule(request, screen, rule, form, rows, version)
    op = request.POST.get("op", "save")
    remove = int(op.removeprefix("remove-")) if op.startswith("remove-") and op[7:].isdigit() else None
    rows = rule_editor.rows_from_post(request.POST, user, add=op == "add", remove=remove)
    version = _posted_version(request) or version
    if op != "save":
        # Adding, removing or changing a condition redraws the form; nothing is saved yet.
        form = _form(screen, user, initial=_typed(screen, user, request.POST))
        return _render_rule(request, screen, rule, form, rows, version)
    form = _form(screen, user, data=request.POST)
    conditions, origins = rule_editor.conditions_from_rows(rows)
    if form.is_valid():
        try:
            saved = _save(screen, request, rule, form, conditions)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ConcurrencyConflict as exc:
            form.add_error(None, f"{exc.message} Saving again replaces their changes with yours.")
            version = _get(screen.model, user, rule.pk).version
            status = 409
        except ServiceError as exc:
            field = ACTION_FIELDS.get(exc.field or "", exc.field)
            if not rule_editor.place_error(rows, origins, exc.field or "", exc.message):
                form.add_error(field if field in form.fields else None, exc.message)
            status = 400
        else:
            messages.success(request, f"{saved.name} saved.")
            return HttpResponseRedirect(reverse(screen.list_url))
    else:
        status = 400
    return _render_rule(request, screen, rule, form, rows, version, status=status)


def _render_rule(request, screen: RuleScreen, rule, form, rows, version, status: int = 200):
    actions = [name for name in form.fields if name in RoutingRuleForm.declared_fields and name not in BASICS]
    return render(
        request,
        screen.template,
        {
            "screen": screen,
            "rule": rule,
            "title": f"Edit “{rule.name}”" if rule else f"New {screen.noun}",
            "basics": [form[name] for name in form.fields if name not in actions],
            "action_fields": [form[name] for name in actions],
            "form": form,
            "rows": rows,
            "row_count": len(rows),
            "condition_choices": rule_editor.condition_choices(),
            "version": version,
            "is_routing": screen is ROUTING,
            "list_url": reverse(screen.list_url),
            "row_errors": any(row.error or any(item.error for item in row.params) for row in rows),
        },
        status=status,
    )


@login_required
def routing_rule_edit(request, pk: int | None = None):
    return _rule_edit(request, ROUTING, pk)


@login_required
def escalation_rule_edit(request, pk: int | None = None):
    return _rule_edit(request, ESCALATION, pk)


class RoutingRuleDeleteView(ObjectDeleteView):
    model = RoutingRule
    template_name = "tickets/settings/confirm_delete.html"

    def success_url(self):
        return reverse("tickets:settings_routing")

    def cancel_url(self):
        return self.success_url()


class EscalationRuleDeleteView(RoutingRuleDeleteView):
    model = EscalationRule

    def success_url(self):
        return reverse("tickets:settings_escalation")


class MatrixStepDeleteView(EscalationRuleDeleteView):
    model = EscalationMatrixStep


# --- escalation: rules and the matrix -------------------------------------------------------------
@login_required
@require_GET
def escalation_settings(request):
    require_agent(request.user)
    user = request.user
    rules = list(EscalationRule.objects.restrict(user, "view").order_by("position", "id"))
    for rule in rules:
        rule.described = _describe(rule.conditions)
    steps = (
        EscalationMatrixStep.objects.restrict(user, "view")
        .select_related("service", "team")
        .prefetch_related("notify_users")
        .order_by("service__name", "service_id", "priority", "level")
    )
    paths = [
        {"service": service, "priority": priority, "steps": list(group)}
        for (service, priority), group in groupby(steps, key=lambda step: (step.service, step.priority))
    ]
    writable = not user.is_read_only
    return render(
        request,
        "tickets/settings/escalation.html",
        {
            "rules": rules,
            "paths": paths,
            "default_path": DEFAULT_PATH,
            "can_change_rules": writable and user_can(user, "add", EscalationRule),
            "can_change_matrix": writable and user_can(user, "add", EscalationMatrixStep),
        },
    )


@login_required
def matrix_step_edit(request, pk: int | None = None):
    user = request.user
    step = _get(EscalationMatrixStep, user, pk) if pk is not None else None
    _require_write(user, EscalationMatrixStep, step)
    version = step.version if step else None
    status = 200
    if request.method == "POST":
        form = styled(MatrixStepForm(request.POST, user=user))
        version = _posted_version(request) or version
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["notify_users"] = list(data["notify_users"])
            try:
                services.escalation_step_save(actor=user, data=data, step=step, expected_version=version)
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except ConcurrencyConflict as exc:
                form.add_error(None, f"{exc.message} Saving again replaces their changes with yours.")
                version, status = _get(EscalationMatrixStep, user, step.pk).version, 409
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = 400
            else:
                messages.success(request, "Escalation step saved.")
                return HttpResponseRedirect(reverse("tickets:settings_escalation"))
        else:
            status = 400
    else:
        initial = {}
        if step is not None:
            initial = {
                "service": step.service_id,
                "priority": step.priority,
                "level": step.level,
                "team": step.team_id,
                "notify_team_lead": step.notify_team_lead,
                "notify_users": [person.pk for person in step.notify_users.all()],
            }
        form = styled(MatrixStepForm(user=user, initial=initial))
    return render(
        request,
        "tickets/settings/step_form.html",
        {"step": step, "form": form, "version": version, "default_path": DEFAULT_PATH},
        status=status,
    )


# --- teams: assignment strategy -------------------------------------------------------------------
def _may_set_strategy(user: Any, team: Team, current: TeamQueueSettings | None) -> bool:
    if user.is_read_only:
        return False
    if current is not None:
        return may(user, "change", current)
    return user.is_manager or (user.is_agent and team.lead_id == user.pk)


@login_required
def team_settings(request):
    require_agent(request.user)
    user = request.user
    teams = list(Team.objects.restrict(user, "view").select_related("lead").order_by("tier", "name"))
    current = {item.team_id: item for item in TeamQueueSettings.objects.filter(team__in=teams)}
    rows = []
    for team in teams:
        settings = current.get(team.pk)
        strategy = settings.strategy if settings else AssignmentStrategy.MANUAL
        rows.append(
            {
                "team": team,
                "settings": settings,
                "label": AssignmentStrategy(strategy).label,
                "can_change": _may_set_strategy(user, team, settings),
                "form": styled(
                    QueueStrategyForm(initial={"strategy": strategy}, prefix=f"t{team.pk}"), small=True
                ),
            }
        )
    return render(request, "tickets/settings/teams.html", {"rows": rows})


@login_required
@require_POST
def team_strategy(request, pk: int):
    user = request.user
    team = _get(Team, user, pk)
    current = TeamQueueSettings.objects.filter(team=team).first()
    if not _may_set_strategy(user, team, current):
        raise PermissionDenied("Only a manager or this team's lead sets its assignment.")
    form = QueueStrategyForm(request.POST, prefix=f"t{team.pk}")
    if not form.is_valid():
        messages.error(request, "Choose one of the strategies.")
        return HttpResponseRedirect(reverse("tickets:settings_teams"))
    try:
        services.team_queue_settings_save(
            actor=user, team=team, data=form.cleaned_data, expected_version=_posted_version(request)
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        label = AssignmentStrategy(form.cleaned_data["strategy"]).label
        messages.success(request, f"{team.name} now assigns: {label.lower()}.")
    return HttpResponseRedirect(reverse("tickets:settings_teams"))


# --- categories -----------------------------------------------------------------------------------
class CategoryListView(ObjectListView):
    model = Category
    template_name = "tickets/settings/categories.html"
    search_fields = ("name", "description", "parent__name")
    select_related = ("parent", "required_skill")
    ordering_fields = {"name": "name", "parent": "parent__name"}
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        require_agent(request.user)
        return super().get(request, *args, **kwargs)

    def list_url(self):
        return reverse("tickets:settings_categories")

    def add_url(self):
        return reverse("tickets:settings_category_add")


class CategoryEditView(ObjectEditView):
    model = Category
    form_class = CategoryForm
    template_name = "tickets/settings/category_form.html"

    def list_url(self):
        return reverse("tickets:settings_categories")

    def perform_create(self, form):
        return record_create(model=Category, actor=self.request.user, data=form.cleaned_data)

    def perform_update(self, form, version):
        return record_update(
            instance=self.object, actor=self.request.user, data=form.cleaned_data, expected_version=version
        )

    def success_url(self, instance):
        return reverse("tickets:settings_categories")

    def cancel_url(self):
        return self.list_url()
