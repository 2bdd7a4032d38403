"""Pieces every portfolio screen shares."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponse
from django.urls import NoReverseMatch, reverse

from opsdesk.portfolio.forms import WEEKDAY_LABELS
from opsdesk.portfolio.models import BusinessCalendar, Service
from opsdesk.portfolio.models.calendars import WEEKDAY_KEYS


def get_visible(queryset: models.QuerySet, pk: Any, what: str = "record") -> models.Model:
    """One row of an already restricted queryset, or 404: a record you may not see is missing."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {what} here.") from exc


def require_staff(user: Any) -> None:
    """Costs, alignment and the dependency picture are for IT staff, not for requesters."""
    if not user.is_agent:
        raise PermissionDenied("This page is for IT staff.")


def week_rows(calendar: BusinessCalendar | None) -> list[dict[str, Any]]:
    """A calendar's working hours as seven readable lines: day, hours or closed."""
    if calendar is None:
        return []
    rows = []
    for key in WEEKDAY_KEYS:
        intervals = calendar.working_hours.get(key, [])
        if intervals == [["00:00", "24:00"]]:
            text = "All day"
        else:
            text = ", ".join(f"{start}–{end}" for start, end in intervals)
        rows.append({"day": WEEKDAY_LABELS[key], "hours": text, "open": bool(intervals)})
    return rows


def csv_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ServicePartEditMixin:
    """Offerings, tiers, locations and objective links belong to a service: the page starts
    from ``?service=`` and goes back to the service sheet."""

    select_related = ("service",)
    anchor = ""

    def get_initial(self):
        initial = super().get_initial()
        raw = self.request.GET.get("service", "")
        if raw.isdigit():
            initial["service"] = int(raw)
        return initial

    def _service_url(self, service_id: int | None) -> str | None:
        if service_id is None:
            return None
        return reverse("portfolio:service_detail", args=[service_id]) + self.anchor

    def success_url(self, instance):
        return self._service_url(instance.service_id)

    def cancel_url(self):
        if self.object is not None:
            return self._service_url(self.object.service_id)
        raw = self.request.GET.get("service", "")
        if raw.isdigit() and Service.objects.restrict(self.request.user, "view").filter(pk=raw).exists():
            return self._service_url(int(raw))
        return reverse("portfolio:service_list")


class ServicePartDeleteMixin:
    select_related = ("service",)
    anchor = ""

    def success_url(self):
        return reverse("portfolio:service_detail", args=[self.object.service_id]) + self.anchor

    def cancel_url(self):
        return self.success_url()


class PortfolioUrls:
    """Portfolio URLs use short names (``objective_list``, not ``businessobjective_list``)."""

    url_base = ""

    def list_url(self) -> str | None:
        try:
            return reverse(f"portfolio:{self.url_base}_list")
        except NoReverseMatch:
            # Parts of a service (offerings, tiers) have no list of their own.
            return None

    def add_url(self) -> str | None:
        try:
            return reverse(f"portfolio:{self.url_base}_add")
        except NoReverseMatch:
            return None
