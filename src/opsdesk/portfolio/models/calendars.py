"""Business calendars: when a service is staffed. The SLA engine reuses this model."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from opsdesk.accounts.validators import validate_time_zone
from opsdesk.core.models import AuditedModel

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _minutes(clock: str) -> int:
    match = _CLOCK.match(clock) if isinstance(clock, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValidationError(f"{clock!r} is not a time of day as HH:MM (00:00 to 24:00).")
    return int(match.group(1)) * 60 + int(match.group(2))


def validate_working_hours(value: object) -> None:
    """``{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], …, "sun": []}``: every day present,
    intervals in order, each ending after it starts, none overlapping."""
    if not isinstance(value, dict):
        raise ValidationError("Working hours are an object with one key per weekday (mon … sun).")
    unknown = sorted(set(value) - set(WEEKDAY_KEYS))
    if unknown:
        raise ValidationError(
            f"Unknown weekday keys: {', '.join(unknown)}; use mon, tue, wed, thu, fri, sat, sun."
        )
    for day in WEEKDAY_KEYS:
        intervals = value.get(day, [])
        if not isinstance(intervals, list):
            raise ValidationError(f"{day}: a list of [start, end] pairs.")
        previous_end = -1
        for interval in intervals:
            if not (isinstance(interval, list | tuple) and len(interval) == 2):
                raise ValidationError(f'{day}: each interval is a pair ["HH:MM", "HH:MM"].')
            start, end = _minutes(interval[0]), _minutes(interval[1])
            if end <= start:
                raise ValidationError(f"{day}: {interval[0]}–{interval[1]} must end after it starts.")
            if start < previous_end:
                raise ValidationError(f"{day}: intervals must be in order and must not overlap.")
            previous_end = end


def validate_date_list(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("A list of dates as YYYY-MM-DD.")
    for item in value:
        if not isinstance(item, str) or len(item) != len("YYYY-MM-DD"):
            raise ValidationError(f"{item!r} is not a date as YYYY-MM-DD.")
        try:
            date.fromisoformat(item)
        except ValueError as exc:
            raise ValidationError(f"{item!r} is not a date as YYYY-MM-DD.") from exc


def office_hours() -> dict[str, list[list[str]]]:
    weekday = [["09:00", "17:00"]]
    return {
        "mon": weekday,
        "tue": weekday,
        "wed": weekday,
        "thu": weekday,
        "fri": weekday,
        "sat": [],
        "sun": [],
    }


class BusinessCalendar(AuditedModel):
    """A time zone, weekly working intervals, public holidays by country and subdivision,
    custom closures and extra working days."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    working_hours = models.JSONField(default=office_hours, validators=[validate_working_hours])
    holiday_country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. DE.")
    holiday_subdivision = models.CharField(max_length=10, blank=True, help_text="e.g. BE for Berlin.")
    closures = models.JSONField(default=list, blank=True, validators=[validate_date_list])
    extra_working_days = models.JSONField(default=list, blank=True, validators=[validate_date_list])

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:calendar_detail", args=[self.pk])

    def clean(self) -> None:
        hours = self.working_hours if isinstance(self.working_hours, dict) else {}
        if not any(hours.get(day) for day in WEEKDAY_KEYS) and not self.extra_working_days:
            raise ValidationError(
                {
                    "working_hours": "The calendar has no working time at all: give at least one "
                    "weekday working hours, or list extra working days."
                }
            )
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_subdivision": "Give the country of the subdivision too."})
        if self.holiday_country:
            import holidays

            try:
                holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision or None)
            except NotImplementedError as exc:
                raise ValidationError({"holiday_country": f"No public holidays are known: {exc}."}) from exc

    @property
    def weekly_hours(self) -> float:
        total = sum(
            _minutes(end) - _minutes(start)
            for day in WEEKDAY_KEYS
            for start, end in self.working_hours.get(day, [])
        )
        return round(total / 60, 2)
