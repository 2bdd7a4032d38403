"""SLA performance screens: the desk's compliance report (filters, charts, table, CSV) and the
report a customer reads about their own organisation in the portal. The figures come from
``sla.reports``; these views only read the filters and draw."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from opsdesk.accounts.models import Organization
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.periods import PeriodForm as BasePeriodForm
from opsdesk.core.views import style_form
from opsdesk.sla.choices import Metric, PolicyKind
from opsdesk.sla.reports import GROUP_BY, ComplianceReport, compliance_report, report_to_csv

PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_90_days": "Last 90 days",
    "this_year": "This year",
    "last_12_months": "Last 12 months",
    "custom": "Custom dates",
}
DEFAULTS = {"period": "last_90_days", "group_by": "service", "kind": PolicyKind.SLA, "metric": ""}
PORTAL_DEFAULT_PERIOD = "last_12_months"
EMPTY_TEXT = "No SLA policy has timed any ticket in this period — define one under Service levels."


class PeriodForm(BasePeriodForm):
    # The SLA report keeps its own presets (its users know them; no "last 30 days").
    period = forms.ChoiceField(choices=list(PERIODS.items()), label="Period")


class ReportForm(PeriodForm):
    group_by = forms.ChoiceField(choices=list(GROUP_BY.items()), label="Group by")
    kind = forms.ChoiceField(choices=PolicyKind.choices, label="Kind")
    metric = forms.ChoiceField(
        choices=[("", "Every metric"), *Metric.choices], required=False, label="Metric"
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Organisation",
        empty_label="Every organisation",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.restrict(user, "view").order_by("name")
        style_form(self, small=True)


def _bound_data(request, defaults: dict[str, str]) -> dict[str, str]:
    data = dict(defaults)
    data.update({key: value for key, value in request.GET.items() if key != "format"})
    return data


def _run(form: forms.Form, **arguments: Any) -> ComplianceReport | None:
    """The report, or None with the selector's refusal shown on the form."""
    try:
        return compliance_report(**arguments)
    except ServiceError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return None


def chart_data(report: ComplianceReport, *, bars: bool = True) -> dict[str, Any]:
    """What report-charts.js draws: % met per group and the monthly trend."""
    data: dict[str, Any] = {
        "trend": {
            "labels": [row.label for row in report.trend],
            "pct_met": [row.pct_met for row in report.trend],
            "measured": [row.measured for row in report.trend],
        }
    }
    if bars:
        data["bars"] = {
            "labels": [row.label for row in report.rows],
            "pct_met": [row.pct_met for row in report.rows],
        }
    return data


def csv_response(report: ComplianceReport) -> HttpResponse:
    response = HttpResponse(report_to_csv(report), content_type="text/csv; charset=utf-8")
    filename = f"sla-{report.kind}-{report.group_by}-{report.start}-{report.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _staff_report(request) -> tuple[ReportForm, ComplianceReport | None]:
    if not request.user.is_agent:
        raise PermissionDenied("This page is for the service desk.")
    form = ReportForm(_bound_data(request, DEFAULTS), user=request.user)
    report = None
    if form.is_valid():
        data = form.cleaned_data
        organization = data.get("organization")
        report = _run(
            form,
            user=request.user,
            start=data["start"],
            end=data["end"],
            group_by=data["group_by"],
            kind=data["kind"],
            metric=data["metric"] or None,
            organization_id=organization.pk if organization else None,
        )
    return form, report


@login_required
@require_GET
def compliance(request):
    form, report = _staff_report(request)
    if report is not None and request.GET.get("format") == "csv":
        return csv_response(report)
    query = urlencode({key: value for key, value in request.GET.items() if key != "format"})
    context = {
        "form": form,
        "report": report,
        "group_label": GROUP_BY.get(form.cleaned_data.get("group_by", ""), "Group")
        if hasattr(form, "cleaned_data")
        else "Group",
        "chart_data": chart_data(report) if report else None,
        "csv_url": f"{reverse('sla_reports:compliance_csv')}?{query}",
        "empty_text": EMPTY_TEXT,
    }
    return render(request, "sla/reports/compliance.html", context, status=200 if report else 400)


@login_required
@require_GET
def compliance_csv(request):
    form, report = _staff_report(request)
    if report is None:
        return render(
            request,
            "sla/reports/compliance.html",
            {"form": form, "report": None, "empty_text": EMPTY_TEXT},
            status=400,
        )
    return csv_response(report)


# --- the portal ---------------------------------------------------------------------------------


def _organization_for(request) -> tuple[Organization | None, str]:
    """The organisation to report on, or None with the reason shown instead."""
    user = request.user
    if not user.is_agent:
        if not user.organization_id:
            return None, (
                "Service-level reports cover an organisation's tickets, and your account does not "
                "belong to one. Ask the service desk if you think it should."
            )
        return user.organization, ""
    raw = request.GET.get("organization", "")
    if not raw:
        return None, "Choose the organisation whose service levels you want to see."
    organization = (
        Organization.objects.restrict(user, "view").filter(pk=int(raw)).first() if raw.isdigit() else None
    )
    if organization is None:
        return None, "There is no such organisation: choose one from the list."
    return organization, ""


@login_required
@require_GET
def organization(request):
    user = request.user
    organization, reason = _organization_for(request)
    form = PeriodForm(_bound_data(request, {"period": PORTAL_DEFAULT_PERIOD}))
    style_form(form, small=True)
    context: dict[str, Any] = {
        "form": form,
        "organization": organization,
        "reason": reason,
        "by_month": None,
        "by_service": None,
        "organizations": Organization.objects.restrict(user, "view").order_by("name")
        if user.is_agent
        else [],
        "empty_text": "No ticket of your organisation was timed against a service level in this period.",
        "partial": bool(organization and not user.is_agent and not organization.requesters_see_organization),
    }
    status = 200
    if organization is not None and form.is_valid():
        arguments = {
            "user": user,
            "start": form.cleaned_data["start"],
            "end": form.cleaned_data["end"],
            "kind": PolicyKind.SLA,
            "organization_id": organization.pk,
        }
        context["by_month"] = _run(form, group_by="month", **arguments)
        context["by_service"] = _run(form, group_by="service", **arguments) if context["by_month"] else None
        if context["by_month"]:
            context["chart_data"] = chart_data(context["by_service"])
        else:
            status = 400
    elif organization is not None:
        status = 400
    return render(request, "sla/reports/organization.html", context, status=status)
