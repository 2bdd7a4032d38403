"""Services and their parts: list, sheet, edit, stage changes, the dependency picture, and
CSV exchange of services and providers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import User
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    may,
    style_form,
)
from opsdesk.portfolio import csv_exchange, filtersets, selectors, services
from opsdesk.portfolio.choices import STAGE_TRANSITIONS, Channel, Stage
from opsdesk.portfolio.forms import (
    CsvUploadForm,
    OfferingForm,
    ServiceForm,
    ServiceLocationForm,
    ServiceObjectiveForm,
    StageChangeForm,
    SupportTierForm,
)
from opsdesk.portfolio.graph import layout
from opsdesk.portfolio.models import (
    Offering,
    Provider,
    Service,
    ServiceLocation,
    ServiceObjective,
    ServiceSupportTier,
)
from opsdesk.portfolio.views.common import (
    PortfolioUrls,
    ServicePartDeleteMixin,
    ServicePartEditMixin,
    csv_download,
    get_visible,
    require_staff,
    week_rows,
)

SERVICE_FILTERS = ("stage", "type", "owner", "criticality")
# The preview carries the file back in a form field; Django caps non-file form data, so a
# file near that cap is asked for again instead (with room for the token and field names).
CARRY_LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 16 * 1024


def _filtered_services(request):
    queryset = selectors.service_list_for(user=request.user)
    filterset = filtersets.ServiceFilterSet(request.GET or None, queryset=queryset, request=request)
    return filterset, (filterset.qs if filterset.is_bound else queryset)


class ServiceListView(PortfolioUrls, ObjectListView):
    url_base = "service"
    model = Service
    filterset_class = filtersets.ServiceFilterSet
    search_fields = ("name", "description")
    ordering_fields = {
        "name": "name",
        "type": "type",
        "stage": "stage",
        "owner": "owner__last_name",
        "criticality": "criticality",
    }

    def restricted_queryset(self, action="view"):
        return selectors.service_list_for(user=self.request.user)

    def customize_filter_form(self, form):
        for name in list(form.fields):
            if name not in SERVICE_FILTERS:
                form.fields.pop(name)
        # Only people who own a service, not the whole directory.
        form.fields["owner"] = forms.ModelChoiceField(
            User.objects.restrict(self.request.user, "view")
            .filter(owned_services__isnull=False)
            .distinct()
            .order_by("last_name", "username"),
            required=False,
        )
        if not self.request.user.is_agent:
            form.fields.pop("stage")

    def extra_context(self):
        user = self.request.user
        return {
            "export_url": reverse("portfolio:service_export") if user.is_agent else None,
            "import_url": reverse("portfolio:service_import") if user_can(user, "add", Service) else None,
        }


class ServiceDetailView(PortfolioUrls, ObjectDetailView):
    """The service sheet: everything about one service on one printable page. Requesters get
    their own version of it, without costs, contracts or internal teams."""

    url_base = "service"

    model = Service

    def restricted_queryset(self, action="view"):
        return selectors.service_list_for(user=self.request.user)

    def get_template_names(self):
        if self.request.user.is_requester:
            return ["portfolio/service_public.html"]
        return ["portfolio/service_detail.html"]

    def extra_context(self, instance: Service) -> dict[str, Any]:
        user = self.request.user
        sheet = selectors.service_sheet(user=user, service=instance)
        can_change = may(user, "change", instance)
        stage_form = None
        if can_change and STAGE_TRANSITIONS[Stage(instance.stage)]:
            stage_form = StageChangeForm(service=instance)
            style_form(stage_form, small=True)
        return {
            **sheet,
            "week": week_rows(instance.service_hours),
            "stage_form": stage_form,
            "can_change_parts": can_change,
            "add_urls": _part_add_urls(instance) if can_change else {},
            "edit_url": reverse("portfolio:service_edit", args=[instance.pk]),
            "delete_url": reverse("portfolio:service_delete", args=[instance.pk]),
            "channel_labels": _channel_labels(instance.channels),
        }


def _part_add_urls(service: Service) -> dict[str, str]:
    names = {
        "offering": "offering_add",
        "tier": "tier_add",
        "location": "servicelocation_add",
        "objective": "serviceobjective_add",
    }
    return {key: f"{reverse(f'portfolio:{name}')}?service={service.pk}" for key, name in names.items()}


def _channel_labels(values: list[str]) -> list[str]:
    return [Channel(value).label for value in values if value in Channel.values]


class ServiceEditView(PortfolioUrls, ObjectEditView):
    url_base = "service"
    model = Service
    form_class = ServiceForm
    select_related = ("owner", "service_hours")

    def build_form(self, data=None):
        form = super().build_form(data)
        # Django puts a multiple-choice widget's class on its wrapper too; Bootstrap's tiny
        # checkbox class there would collapse the list, so the list gets its own layout class.
        form.fields["channels"].widget.attrs["class"] = "choice-list"
        return form

    def get_initial(self):
        # Whoever creates a service usually owns it; the form lets them name someone else.
        return {"owner": self.request.user.pk} if self.object is None and self.request.user.is_agent else {}

    @staticmethod
    def _split(form) -> tuple[dict[str, Any], dict[str, Any]]:
        data = dict(form.cleaned_data)
        relations = {name: list(data.pop(name)) for name in ("depends_on", "escalation_teams")}
        return data, relations

    def perform_create(self, form):
        data, relations = self._split(form)
        return services.service_create(actor=self.request.user, data=data, **relations)

    def perform_update(self, form, version):
        data, relations = self._split(form)
        return services.service_update(
            actor=self.request.user, service=self.object, data=data, expected_version=version, **relations
        )


class ServiceDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "service"
    model = Service


@require_POST
@login_required
def service_stage(request, pk: int):
    service = get_visible(selectors.service_list_for(user=request.user), pk, "service")
    form = StageChangeForm(request.POST, service=service)
    if not form.is_valid():
        messages.error(request, "Choose one of the stages offered.")
        return redirect(service)
    try:
        services.service_change_stage(
            actor=request.user,
            service=service,
            to_stage=form.cleaned_data["to_stage"],
            effective=form.cleaned_data["effective"],
            note=form.cleaned_data["note"],
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{service} is now in the {service.get_stage_display().lower()} stage.")
    return redirect(service)


@login_required
def service_graph(request, pk: int):
    """What the service depends on and what depends on it, as a picture with links."""
    require_staff(request.user)
    service = get_visible(selectors.service_list_for(user=request.user), pk, "service")
    graph = selectors.dependency_graph(user=request.user, service=service)
    context = {"object": service, "layout": layout(graph), "graph": graph}
    return render(request, "portfolio/service_graph.html", context)


# --- parts of a service ---------------------------------------------------------------------------
class ServicePartEditView(ServicePartEditMixin, ObjectEditView):
    """Adding a part to a service needs the right to change that very service."""

    def dispatch(self, request, *args, **kwargs):
        raw = request.GET.get("service", "")
        if request.user.is_authenticated and "pk" not in kwargs and raw.isdigit():
            service = get_visible(selectors.service_list_for(user=request.user), raw, "service")
            if not may(request.user, "change", service):
                raise PermissionDenied("You may not change this service.")
        return super().dispatch(request, *args, **kwargs)


class OfferingEditView(PortfolioUrls, ServicePartEditView):
    url_base = "offering"
    model = Offering
    form_class = OfferingForm
    anchor = "#offerings"


class OfferingDeleteView(PortfolioUrls, ServicePartDeleteMixin, ObjectDeleteView):
    url_base = "offering"
    model = Offering
    anchor = "#offerings"


class SupportTierEditView(PortfolioUrls, ServicePartEditView):
    url_base = "tier"
    model = ServiceSupportTier
    form_class = SupportTierForm
    anchor = "#support"


class SupportTierDeleteView(PortfolioUrls, ServicePartDeleteMixin, ObjectDeleteView):
    url_base = "tier"
    model = ServiceSupportTier
    anchor = "#support"


class ServiceLocationEditView(PortfolioUrls, ServicePartEditView):
    url_base = "servicelocation"
    model = ServiceLocation
    form_class = ServiceLocationForm
    anchor = "#locations"


class ServiceLocationDeleteView(PortfolioUrls, ServicePartDeleteMixin, ObjectDeleteView):
    url_base = "servicelocation"
    model = ServiceLocation
    anchor = "#locations"


class ServiceObjectiveEditView(PortfolioUrls, ServicePartEditView):
    url_base = "serviceobjective"
    model = ServiceObjective
    form_class = ServiceObjectiveForm
    anchor = "#objectives"


class ServiceObjectiveDeleteView(PortfolioUrls, ServicePartDeleteMixin, ObjectDeleteView):
    url_base = "serviceobjective"
    model = ServiceObjective
    anchor = "#objectives"


# --- CSV exchange ------------------------------------------------------------------------------
@login_required
def service_export(request):
    """The services the list shows (same filters and search), as CSV. Staff only: a service's
    dependencies may name services a requester does not see."""
    require_staff(request.user)
    _, queryset = _filtered_services(request)
    query = request.GET.get("q", "").strip()
    if query:
        queryset = queryset.filter(Q(name__icontains=query) | Q(description__icontains=query))
    return csv_download(csv_exchange.services_to_csv(queryset), "services.csv")


@login_required
def provider_export(request):
    if not user_can(request.user, "view", Provider):
        raise PermissionDenied("You may not see providers.")
    queryset = Provider.objects.restrict(request.user, "view")
    filterset = filtersets.ProviderFilterSet(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound:
        queryset = filterset.qs
    query = request.GET.get("q", "").strip()
    if query:
        queryset = queryset.filter(name__icontains=query)
    return csv_download(csv_exchange.providers_to_csv(queryset), "providers.csv")


IMPORTS = {
    "services": {
        "model": Service,
        "run": csv_exchange.services_import,
        "columns": csv_exchange.SERVICE_COLUMNS,
        "title": "Import services",
        "list_url": "portfolio:service_list",
        "export_url": "portfolio:service_export",
    },
    "providers": {
        "model": Provider,
        "run": csv_exchange.providers_import,
        "columns": csv_exchange.PROVIDER_COLUMNS,
        "title": "Import providers",
        "list_url": "portfolio:provider_list",
        "export_url": "portfolio:provider_export",
    },
}


def _csv_import(request, kind: str):
    """Upload → preview (every row checked, nothing written) → import all rows, or none."""
    spec = IMPORTS[kind]
    if not user_can(request.user, "add", spec["model"]):
        raise PermissionDenied(f"You may not import {kind}.")
    context: dict[str, Any] = {
        "kind": kind,
        "spec": spec,
        "list_url": reverse(spec["list_url"]),
        "export_url": reverse(spec["export_url"]),
        "max_mb": csv_exchange.MAX_IMPORT_BYTES // (1024 * 1024),
    }
    form = CsvUploadForm()
    if request.method == "POST":
        data, problem = _posted_csv(request)
        if problem:
            form = CsvUploadForm(request.POST, request.FILES)
            form.add_error(None, problem)
        else:
            apply = request.POST.get("step") == "apply"
            try:
                result = spec["run"](actor=request.user, data=data, apply=apply)
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            context.update(result=result, applied=result.applied)
            if result.applied:
                created = sum(1 for row in result.rows if row.action == "create")
                messages.success(
                    request,
                    f"Imported {len(result.rows)} rows: {created} new, {len(result.rows) - created} updated.",
                )
            elif result.ok:
                context.update(content=data.decode("utf-8-sig"), carry=len(data) <= CARRY_LIMIT)
    style_form(form)
    context["form"] = form
    return render(request, "portfolio/csv_import.html", context, status=200)


def _posted_csv(request) -> tuple[bytes, str | None]:
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > csv_exchange.MAX_IMPORT_BYTES:
            return b"", f"The file is larger than {csv_exchange.MAX_IMPORT_BYTES // (1024 * 1024)} MB."
        return upload.read(), None
    content = request.POST.get("content")
    if content is None:
        return b"", "Choose a CSV file to check."
    data = content.encode("utf-8")
    if len(data) > csv_exchange.MAX_IMPORT_BYTES:
        return b"", f"The file is larger than {csv_exchange.MAX_IMPORT_BYTES // (1024 * 1024)} MB."
    return data, None


@login_required
def service_import(request):
    return _csv_import(request, "services")


@login_required
def provider_import(request):
    return _csv_import(request, "providers")
