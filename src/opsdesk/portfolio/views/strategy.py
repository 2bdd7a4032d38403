"""Why services exist and what they cost: objectives with KPIs, the alignment view, the cost
view, business calendars (service hours) and support policies with their versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import record_create, record_update
from opsdesk.core.views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, may
from opsdesk.portfolio import business_time, selectors, services
from opsdesk.portfolio.forms import CalendarForm, KpiForm, ObjectiveForm, PolicyForm, PolicyVersionForm
from opsdesk.portfolio.models import (
    BusinessCalendar,
    BusinessObjective,
    Kpi,
    Service,
    ServiceObjective,
    SupportPolicy,
    SupportPolicyVersion,
)
from opsdesk.portfolio.views.common import PortfolioUrls, get_visible, require_staff, week_rows

CHART_LINES = 15


# --- objectives and KPIs ------------------------------------------------------------------------
class ObjectiveListView(PortfolioUrls, ObjectListView):
    url_base = "objective"
    model = BusinessObjective
    search_fields = ("name", "description")
    ordering_fields = {
        "name": "name",
        "kind": "kind",
        "owner": "owner__last_name",
        "services": "service_count",
    }
    select_related = ("owner",)

    def restricted_queryset(self, action="view"):
        return (
            super()
            .restricted_queryset(action)
            .annotate(
                service_count=Count("service_links", distinct=True), kpi_count=Count("kpis", distinct=True)
            )
        )


class ObjectiveDetailView(PortfolioUrls, ObjectDetailView):
    url_base = "objective"
    model = BusinessObjective
    select_related = ("owner",)

    def extra_context(self, instance: BusinessObjective) -> dict[str, Any]:
        user = self.request.user
        return {
            "kpis": list(Kpi.objects.restrict(user, "view").filter(objective=instance)),
            "links": list(
                ServiceObjective.objects.restrict(user, "view")
                .filter(objective=instance, service__in=Service.objects.restrict(user, "view"))
                .select_related("service", "service__owner")
                .order_by("-alignment", "service__criticality", "service__name")
            ),
            "can_add_kpi": may(user, "change", instance),
            "edit_url": reverse("portfolio:objective_edit", args=[instance.pk]),
            "delete_url": reverse("portfolio:objective_delete", args=[instance.pk]),
        }


class ObjectiveEditView(PortfolioUrls, ObjectEditView):
    url_base = "objective"
    model = BusinessObjective
    form_class = ObjectiveForm


class ObjectiveDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "objective"
    model = BusinessObjective


class KpiEditView(PortfolioUrls, ObjectEditView):
    url_base = "kpi"
    model = Kpi
    form_class = KpiForm
    select_related = ("objective",)

    def dispatch(self, request, *args, **kwargs):
        raw = request.GET.get("objective", "")
        if request.user.is_authenticated and "pk" not in kwargs and raw.isdigit():
            objective = get_visible(
                BusinessObjective.objects.restrict(request.user, "view"), raw, "objective"
            )
            if not may(request.user, "change", objective):
                raise PermissionDenied("You may not change this objective.")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        raw = self.request.GET.get("objective", "")
        return {"objective": int(raw)} if raw.isdigit() else {}

    def success_url(self, instance):
        return instance.objective.get_absolute_url() + "#kpis"

    def cancel_url(self):
        if self.object is not None:
            return self.object.objective.get_absolute_url()
        return reverse("portfolio:objective_list")


class KpiDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "kpi"
    model = Kpi
    select_related = ("objective",)

    def success_url(self):
        return self.object.objective.get_absolute_url() + "#kpis"

    def cancel_url(self):
        return self.success_url()


@login_required
def alignment(request):
    """Services serving no objective, objectives no service serves, and who matters most."""
    require_staff(request.user)
    return render(
        request, "portfolio/alignment.html", {"alignment": selectors.alignment_view(user=request.user)}
    )


@login_required
def locations(request):
    """Each site with the services delivered there and how."""
    require_staff(request.user)
    return render(
        request, "portfolio/locations.html", {"locations": selectors.delivery_by_location(user=request.user)}
    )


@login_required
def costs(request):
    """Offerings' yearly cost and price per service and per location: a chart and the table."""
    require_staff(request.user)
    lines = selectors.cost_view(user=request.user)

    def chart(rows):
        top = rows[:CHART_LINES]
        return {
            "labels": [row.name for row in top],
            "cost": [float(row.yearly_cost) for row in top],
            "price": [float(row.yearly_price) for row in top],
        }

    context = {
        "by_service": lines["services"],
        "by_location": lines["locations"],
        "chart_data": {"services": chart(lines["services"]), "locations": chart(lines["locations"])},
        "chart_lines": CHART_LINES,
        "totals": {
            "cost": sum(row.yearly_cost for row in lines["services"]),
            "price": sum(row.yearly_price for row in lines["services"]),
            "offerings": sum(row.offerings for row in lines["services"]),
        },
    }
    return render(request, "portfolio/costs.html", context)


# --- calendars ------------------------------------------------------------------------------------
class CalendarListView(PortfolioUrls, ObjectListView):
    url_base = "calendar"
    model = BusinessCalendar
    search_fields = ("name", "time_zone")
    ordering_fields = {"name": "name", "time_zone": "time_zone", "services": "service_count"}

    def restricted_queryset(self, action="view"):
        return super().restricted_queryset(action).annotate(service_count=Count("services"))


class CalendarDetailView(PortfolioUrls, ObjectDetailView):
    url_base = "calendar"
    model = BusinessCalendar

    def extra_context(self, instance: BusinessCalendar) -> dict[str, Any]:
        return {
            "calculator": due_calculator(instance, self.request.GET),
            "week": week_rows(instance),
            "services": list(
                Service.objects.restrict(self.request.user, "view").filter(service_hours=instance)
            ),
            "edit_url": reverse("portfolio:calendar_edit", args=[instance.pk]),
        }


def due_calculator(calendar: BusinessCalendar, query) -> dict[str, Any]:
    """The small due-time calculator of the calendar page: ``start`` is a local date and time in
    the calendar's zone (an ``<input type="datetime-local">``), ``minutes`` business minutes."""
    start_text, minutes_text = query.get("start", "").strip(), query.get("minutes", "").strip()
    result: dict[str, Any] = {"start": start_text, "minutes": minutes_text}
    if not start_text and not minutes_text:
        return result
    zone = ZoneInfo(calendar.time_zone)
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        result["error"] = "Give the start as a date and time."
        return result
    start = start.replace(tzinfo=zone) if start.tzinfo is None else start
    if not minutes_text.isdigit() or len(minutes_text) > 12:
        result["error"] = "Give the business minutes as a whole number, 0 or more."
        return result
    try:
        due = business_time.add_business_minutes(
            business_time.schedule_for(calendar), start, int(minutes_text)
        )
    except business_time.BusinessTimeError as exc:
        result["error"] = str(exc)
        return result
    result.update(due_local=due.astimezone(zone), due_utc=due.astimezone(UTC))
    return result


class CalendarEditView(PortfolioUrls, ObjectEditView):
    url_base = "calendar"
    model = BusinessCalendar
    form_class = CalendarForm

    @staticmethod
    def _data(form):
        return {name: value for name, value in form.cleaned_data.items() if not name.startswith("hours_")}

    def perform_create(self, form):
        return record_create(model=BusinessCalendar, actor=self.request.user, data=self._data(form))

    def perform_update(self, form, version):
        return record_update(
            instance=self.object, actor=self.request.user, data=self._data(form), expected_version=version
        )


# --- support policies -----------------------------------------------------------------------------
class PolicyListView(PortfolioUrls, ObjectListView):
    url_base = "policy"
    model = SupportPolicy
    search_fields = ("name",)
    ordering_fields = {"name": "name"}

    def restricted_queryset(self, action="view"):
        user = self.request.user
        return (
            super()
            .restricted_queryset(action)
            .prefetch_related(
                Prefetch(
                    "services", queryset=Service.objects.restrict(user, "view"), to_attr="visible_services"
                ),
                Prefetch(
                    "versions",
                    queryset=SupportPolicyVersion.objects.restrict(user, "view").order_by("-number"),
                    to_attr="visible_versions",
                ),
            )
        )


class PolicyDetailView(PortfolioUrls, ObjectDetailView):
    url_base = "policy"
    model = SupportPolicy

    def extra_context(self, instance: SupportPolicy) -> dict[str, Any]:
        user = self.request.user
        current = selectors.policy_current_version(policy=instance)
        versions = list(
            SupportPolicyVersion.objects.restrict(user, "view")
            .filter(policy=instance)
            .select_related("published_by")
        )
        can_change = may(user, "change", instance)
        return {
            "current": current,
            "versions": versions,
            "services": list(Service.objects.restrict(user, "view").filter(support_policies=instance)),
            "can_draft": can_change,
            "edit_url": reverse("portfolio:policy_edit", args=[instance.pk]),
            "delete_url": reverse("portfolio:policy_delete", args=[instance.pk]),
        }


class PolicyEditView(PortfolioUrls, ObjectEditView):
    url_base = "policy"
    model = SupportPolicy
    form_class = PolicyForm


class PolicyDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "policy"
    model = SupportPolicy


class PolicyVersionEditView(PortfolioUrls, ObjectEditView):
    """Draft a new version (from ``policies/<policy>/versions/add/``) or edit a draft."""

    url_base = "policyversion"

    model = SupportPolicyVersion
    form_class = PolicyVersionForm
    select_related = ("policy",)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and "policy_pk" in kwargs:
            self.policy = get_visible(
                SupportPolicy.objects.restrict(request.user, "view"), kwargs["policy_pk"], "policy"
            )
            if not may(request.user, "change", self.policy):
                raise PermissionDenied("You may not change this policy.")
        return super().dispatch(request, *args, **kwargs)

    def require(self, action, instance=None):
        # A new version is a change of its policy (checked in dispatch), not an "add" of its own.
        if instance is None and hasattr(self, "policy"):
            return
        super().require(action, instance)

    def get_initial(self):
        if self.object is not None or not hasattr(self, "policy"):
            return {}
        latest = self.policy.versions.order_by("-number").first()
        if latest is None:
            return {}
        # A new version starts from the latest text: most revisions change a sentence or two.
        return {
            name: getattr(latest, name)
            for name in ("support_hours", "coverage", "priority_definitions", "escalation_rules")
        }

    def perform_create(self, form):
        return services.policy_version_create(
            actor=self.request.user, policy=self.policy, data=form.cleaned_data
        )

    def perform_update(self, form, version):
        return services.policy_version_update(
            actor=self.request.user, version=self.object, data=form.cleaned_data, expected_version=version
        )

    def success_url(self, instance):
        return instance.policy.get_absolute_url() + f"#version-{instance.number}"

    def cancel_url(self):
        policy = self.object.policy if self.object is not None else getattr(self, "policy", None)
        return policy.get_absolute_url() if policy else reverse("portfolio:policy_list")

    def extra_context(self):
        policy = self.object.policy if self.object is not None else self.policy
        return {"model_name": f"version of {policy}"}


@require_POST
@login_required
def policy_version_publish(request, pk: int):
    version = get_visible(
        SupportPolicyVersion.objects.restrict(request.user, "view").select_related("policy"), pk, "version"
    )
    try:
        services.policy_version_publish(actor=request.user, version=version)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        when = (
            "now"
            if version.effective_from <= version.published_at.date()
            else f"from {version.effective_from:%d %b %Y}"
        )
        messages.success(request, f"Version {version.number} is published; requesters see it {when}.")
    return HttpResponseRedirect(version.policy.get_absolute_url() + f"#version-{version.number}")
