"""The catalogue's figures page (managers and team leads): period filter, charts, four tables and
a CSV download per table. The figures come from ``catalog.reports``; this view reads the filter
and draws."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from opsdesk.catalog.reports import (
    TABLES,
    CatalogReport,
    catalog_report,
    may_see_figures,
    report_to_csv,
)
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.periods import PeriodForm as BasePeriodForm
from opsdesk.core.views import style_form

DEFAULT_PERIOD = "last_90_days"
# How many bars a chart shows; the tables below list every row.
CHART_BARS = 15
EMPTY_TEXT = (
    "Nobody ordered from the catalogue in this period. Choose a longer period, or publish items "
    "under Catalogue items so people can order them."
)


class PeriodForm(BasePeriodForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_form(self, small=True)


def _filters(request) -> dict[str, str]:
    data = {"period": DEFAULT_PERIOD}
    data.update({key: value for key, value in request.GET.items() if key not in ("format", "table")})
    return data


def _report(request) -> tuple[PeriodForm, CatalogReport | None]:
    if not may_see_figures(request.user):
        raise PermissionDenied("The catalogue's figures are for managers and team leads.")
    form = PeriodForm(_filters(request))
    if not form.is_valid():
        return form, None
    try:
        report = catalog_report(
            user=request.user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
    except ServiceError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return form, None
    return form, report


def _bars(rows: list[Any], value: str, label: str, *, percent: bool = False) -> dict[str, Any]:
    shown = [row for row in rows if getattr(row, value) is not None][:CHART_BARS]
    return {
        "labels": [row.label for row in shown],
        "values": [getattr(row, value) for row in shown],
        "label": label,
        "percent": percent,
    }


def chart_data(report: CatalogReport) -> dict[str, Any]:
    """What catalog/report-charts.js draws, one horizontal bar chart per entry."""
    return {
        "requests": _bars(report.items, "requests", "Requests"),
        "on_time": _bars(report.items, "pct_on_time", "% on time", percent=True),
        "waits": _bars(report.approval_kinds, "mean_hours", "Mean wait (hours)"),
        "tasks": _bars(report.tasks, "pct_within_target", "% within target", percent=True),
    }


def csv_response(report: CatalogReport, table: str) -> HttpResponse:
    response = HttpResponse(report_to_csv(report, table), content_type="text/csv; charset=utf-8")
    filename = f"catalogue-{table.replace('_', '-')}-{report.start}-{report.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def reports(request):
    form, report = _report(request)
    if report is not None and request.GET.get("format") == "csv":
        table = request.GET.get("table", "items")
        if table in TABLES:
            return csv_response(report, table)
        form.add_error(None, f"There is no table “{table}” to download: choose one of the links below.")
        report = None
    query = urlencode(_filters(request))
    base = reverse("catalog:reports")
    context = {
        "form": form,
        "report": report,
        "chart_data": chart_data(report) if report and not report.is_empty else None,
        "csv_urls": {
            table: f"{base}?{query}&{urlencode({'format': 'csv', 'table': table})}" for table in TABLES
        },
        "empty_text": EMPTY_TEXT,
    }
    return render(request, "catalog/reports/figures.html", context, status=200 if report else 400)


urlpatterns = [path("reports/", reports, name="reports")]
