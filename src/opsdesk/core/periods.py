"""Report periods: the presets every figures page offers (last 90 days, last month…), the days
each one covers, and the filter form that turns a preset into dates or checks custom ones."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

PERIODS = {
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "this_year": "This year",
    "last_12_months": "Last 12 months",
    "custom": "Custom dates",
}


def period_bounds(period: str, today: date) -> tuple[date, date]:
    """The first and last day of a preset period, ``today`` included (the last 90 days when
    the preset is unknown)."""
    first_of_month = today.replace(day=1)
    if period == "last_30_days":
        return today - timedelta(days=29), today
    if period == "this_month":
        return first_of_month, today
    if period == "last_month":
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    if period == "this_year":
        return today.replace(month=1, day=1), today
    if period == "last_12_months":
        year, month = (today.year - 1, today.month + 1) if today.month < 12 else (today.year, 1)
        return date(year, month, 1), today
    return today - timedelta(days=89), today


class PeriodForm(forms.Form):
    """A preset period or two custom dates; ``cleaned_data`` gets ``start`` and ``end`` either
    way. A page offers fewer presets by declaring its own ``period`` field."""

    period = forms.ChoiceField(choices=list(PERIODS.items()), label="Period")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        period = data.get("period")
        if period == "custom":
            for name in ("start", "end"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Give both dates of a custom period.")
        elif period:
            data["start"], data["end"] = period_bounds(period, timezone.localdate())
        return data
