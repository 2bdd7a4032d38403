"""Business time over a business calendar: the clock the SLA engine runs on.

Rules (the same everywhere: API, web calculator, SLA timers):

- **Wall clock.** An instant is working time when its local wall-clock time (in the calendar's
  zone) falls inside one of that date's working intervals ``[start, end)``. A 24×7 day is
  therefore 23 hours long on the day the clocks go forward (the skipped hour does not exist) and
  25 hours long on the day they go back (the repeated hour counts twice, once per pass).
- **Days off.** Public holidays (the ``holidays`` package, by country and subdivision, observed
  days included) and the calendar's closures are non-working days.
- **Extra working days** win over holidays and closures. Such a day uses the calendar's hours for
  its weekday; when that weekday has none (an extra Saturday), it uses the hours of the first
  weekday from Monday to Friday that has some, else of Saturday or Sunday, else 09:00–17:00.
- **Adding.** ``add_business_minutes(schedule, start, m)`` is the instant at which ``m`` business
  minutes have elapsed since ``start``. A span that completes exactly at the end of an interval
  ends there (17:00), not at the next opening. ``m == 0`` gives ``start`` when it is working
  time, else the next working instant.
- **Horizon.** A result more than ten years after the start is refused (:class:`BeyondHorizon`),
  and so is a calendar without any working time (:class:`NoWorkingTime`).

Clock changes that move the clock back across midnight into part of an hour (a fold that starts
before midnight and ends after it) do not occur in the time zone database since 1970 and are not
modelled: each local date's working instants are assumed to follow the previous date's.

The work is done on integer microseconds since the epoch, walking day by day over precomputed
per-date intervals (computed lazily, then cached on the schedule).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "HORIZON_YEARS",
    "BeyondHorizon",
    "BusinessTimeError",
    "NoWorkingTime",
    "Schedule",
    "add_business_minutes",
    "add_business_seconds",
    "business_minutes_between",
    "business_seconds_between",
    "compile_schedule",
    "is_working",
    "next_working_instant",
    "schedule_for",
]

HORIZON_YEARS = 10
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d\d):(\d\d)$")
_US = 1_000_000
_DAY = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)
_SAMPLE_STEP = 3 * 3600  # transitions are found by sampling the offset every 3 hours
_MAX_OFFSET = 26 * 3600  # wider than any UTC offset on either side
_DEFAULT_HOURS = ((9 * 60, 17 * 60),)


class BusinessTimeError(ValueError):
    """The computation cannot be answered for this calendar."""


class NoWorkingTime(BusinessTimeError):
    def __init__(self) -> None:
        super().__init__(
            "This calendar has no working time at all: no weekday has working hours and there are "
            "no extra working days."
        )


class BeyondHorizon(BusinessTimeError):
    def __init__(self) -> None:
        super().__init__(f"The result would lie more than {HORIZON_YEARS} years after the start.")


class CalendarLike(Protocol):
    time_zone: str
    working_hours: dict[str, list[list[str]]]
    holiday_country: str
    holiday_subdivision: str
    closures: list[str]
    extra_working_days: list[str]


def _clock_minutes(value: str) -> int:
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a time of day as HH:MM.")
    return int(match.group(1)) * 60 + int(match.group(2))


def _offset(zone: ZoneInfo, seconds: int) -> int:
    return int(datetime.fromtimestamp(seconds, zone).utcoffset().total_seconds())


@dataclass(frozen=True, eq=False)
class Schedule:
    """A calendar compiled for computation. Immutable as far as callers can see; the per-date
    interval lists and the zone's transitions are filled in lazily and cached."""

    zone: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # 7 weekdays of (start, end) minutes of day
    extra_hours: tuple[tuple[int, int], ...]  # hours of an extra working day with no weekday hours
    closures: frozenset[date]
    extra_days: frozenset[date]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    _days: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict, repr=False)
    _transitions: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _holidays: list[Any] = field(default_factory=list, repr=False)

    @property
    def has_working_time(self) -> bool:
        return any(self.weekly) or bool(self.extra_days)

    # --- days ---------------------------------------------------------------------------------
    def _is_holiday(self, day: date) -> bool:
        if not self.holiday_country:
            return False
        if not self._holidays:
            import holidays

            self._holidays.append(
                holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision or None)
            )
        return day in self._holidays[0]

    def local_hours(self, day: date) -> tuple[tuple[int, int], ...]:
        """The working intervals of ``day`` as minutes of the local day."""
        if day in self.extra_days:
            return self.weekly[day.weekday()] or self.extra_hours
        if day in self.closures or self._is_holiday(day):
            return ()
        return self.weekly[day.weekday()]

    def day_intervals(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """The working instants of the local date with this ordinal, as sorted, disjoint
        ``(start, end)`` pairs of microseconds since the epoch."""
        cached = self._days.get(ordinal)
        if cached is None:
            cached = self._days[ordinal] = self._compile_day(ordinal)
        return cached

    def _compile_day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        hours = self.local_hours(date.fromordinal(ordinal))
        if not hours:
            return ()
        base = (ordinal - _EPOCH_ORDINAL) * _DAY  # local midnight, as if the zone were UTC
        pieces: list[list[int]] = []
        for start_minute, end_minute in hours:
            local_start, local_end = base + start_minute * 60, base + end_minute * 60
            for seg_start, seg_end, offset in self._segments(
                local_start - _MAX_OFFSET, local_end + _MAX_OFFSET
            ):
                low, high = max(seg_start, local_start - offset), min(seg_end, local_end - offset)
                if low < high:
                    pieces.append([low, high])
        pieces.sort()
        merged: list[list[int]] = []
        for low, high in pieces:
            if merged and low <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        return tuple((low * _US, high * _US) for low, high in merged)

    # --- zone transitions ---------------------------------------------------------------------
    def _year_transitions(self, year: int) -> tuple[int, ...]:
        found = self._transitions.get(year)
        if found is not None:
            return found
        zone = self.zone
        start = int((datetime(year, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
        end = int((datetime(year + 1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
        result: list[int] = []
        previous_time, previous = start, _offset(zone, start)
        for sample in range(start + _SAMPLE_STEP, end + _SAMPLE_STEP, _SAMPLE_STEP):
            current = _offset(zone, sample)
            if current != previous:
                low, high = previous_time, sample  # offset(low) == previous, offset(high) differs
                while high - low > 1:
                    middle = (low + high) // 2
                    if _offset(zone, middle) == previous:
                        low = middle
                    else:
                        high = middle
                if high < end:
                    result.append(high)
            previous_time, previous = sample, current
        found = self._transitions[year] = tuple(result)
        return found

    def _segments(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """``[start, end)`` (epoch seconds) cut where the zone's offset changes, with the offset."""
        first_year = datetime.fromtimestamp(start, UTC).year
        last_year = datetime.fromtimestamp(end, UTC).year
        cuts = [
            moment
            for year in range(first_year - 1, last_year + 2)
            for moment in self._year_transitions(year)
            if start < moment < end
        ]
        bounds = [start, *sorted(set(cuts)), end]
        return [(low, high, _offset(self.zone, low)) for low, high in pairwise(bounds)]


def _parse_dates(values: Any) -> frozenset[date]:
    return frozenset(date.fromisoformat(value) for value in (values or []))


def compile_schedule(calendar: CalendarLike) -> Schedule:
    """Compile a calendar (a :class:`BusinessCalendar` or anything with its attributes)."""
    hours = calendar.working_hours or {}
    weekly = tuple(
        tuple((_clock_minutes(start), _clock_minutes(end)) for start, end in hours.get(day, []))
        for day in _WEEKDAYS
    )
    extra_hours = next((day_hours for day_hours in weekly if day_hours), _DEFAULT_HOURS)
    return Schedule(
        zone=ZoneInfo(calendar.time_zone or "UTC"),
        weekly=weekly,
        extra_hours=extra_hours,
        closures=_parse_dates(calendar.closures),
        extra_days=_parse_dates(calendar.extra_working_days),
        holiday_country=calendar.holiday_country or "",
        holiday_subdivision=calendar.holiday_subdivision or "",
    )


_CACHE: OrderedDict[tuple, Schedule] = OrderedDict()
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()


def _content_key(calendar: Any) -> tuple:
    hours = calendar.working_hours or {}
    return (
        calendar.time_zone or "UTC",
        tuple((day, tuple(tuple(pair) for pair in hours.get(day, []))) for day in _WEEKDAYS),
        calendar.holiday_country or "",
        calendar.holiday_subdivision or "",
        tuple(calendar.closures or ()),
        tuple(calendar.extra_working_days or ()),
    )


def schedule_for(calendar: Any) -> Schedule:
    """The compiled schedule of a calendar, cached by its content: an edit changes the key, so
    a stale schedule is never used, whatever happened to ids and versions (a deleted calendar's
    id can be reused), and identical calendars share one schedule."""
    key = _content_key(calendar)
    with _CACHE_LOCK:
        schedule = _CACHE.get(key)
        if schedule is not None:
            _CACHE.move_to_end(key)
            return schedule
    schedule = compile_schedule(calendar)
    with _CACHE_LOCK:
        _CACHE[key] = schedule
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return schedule


# --- the calculations ---------------------------------------------------------------------------
def _micros(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("An aware datetime (with a time zone or UTC offset) is required.")
    return (instant - _EPOCH) // _ONE_US


def _instant(schedule: Schedule, micros: int) -> datetime:
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(schedule.zone)


def _local_ordinal(schedule: Schedule, micros: int) -> int:
    return datetime.fromtimestamp(micros // _US, schedule.zone).toordinal()


def _horizon(start: int) -> int:
    """The latest acceptable result: the same UTC wall time ``HORIZON_YEARS`` years later."""
    moment = _EPOCH + timedelta(microseconds=start)
    try:
        limit = moment.replace(year=moment.year + HORIZON_YEARS)
    except ValueError:  # 29 February
        limit = moment.replace(year=moment.year + HORIZON_YEARS, day=28)
    return (limit - _EPOCH) // _ONE_US


def _add(schedule: Schedule, start: int, amount: int) -> int:
    if not schedule.has_working_time:
        raise NoWorkingTime()
    horizon = _horizon(start)
    if amount > horizon - start:
        raise BeyondHorizon()
    ordinal = _local_ordinal(schedule, start)
    last = ordinal + HORIZON_YEARS * 366 + 1
    remaining = amount
    day_intervals = schedule.day_intervals
    while ordinal <= last:
        for low, high in day_intervals(ordinal):
            if high <= start:
                continue
            if low < start:
                low = start
            available = high - low
            if remaining <= available:
                if low + remaining > horizon:
                    raise BeyondHorizon()
                return low + remaining
            remaining -= available
        ordinal += 1
    raise BeyondHorizon()


def _add_many(schedule: Schedule, start: int, amounts: list[int]) -> list[int]:
    """``_add`` for several ascending amounts from one start, in one walk over the days."""
    if not amounts:
        return []
    if not schedule.has_working_time:
        raise NoWorkingTime()
    horizon = _horizon(start)
    if amounts[-1] > horizon - start:
        raise BeyondHorizon()
    ordinal = _local_ordinal(schedule, start)
    last = ordinal + HORIZON_YEARS * 366 + 1
    results: list[int] = []
    used = 0  # business microseconds walked so far
    index, count = 0, len(amounts)
    day_intervals = schedule.day_intervals
    while ordinal <= last:
        for low, high in day_intervals(ordinal):
            if high <= start:
                continue
            if low < start:
                low = start
            available = high - low
            while index < count and amounts[index] - used <= available:
                instant = low + amounts[index] - used
                if instant > horizon:
                    raise BeyondHorizon()
                results.append(instant)
                index += 1
            if index == count:
                return results
            used += available
        ordinal += 1
    raise BeyondHorizon()


def add_business_seconds_many(schedule: Schedule, start: datetime, seconds: list[int]) -> list[datetime]:
    """``add_business_seconds`` for several ascending amounts at the cost of one walk (the
    due time and every warning threshold of an SLA timer)."""
    if any(amount < 0 for amount in seconds) or seconds != sorted(seconds):
        raise ValueError("Amounts must be ascending and not negative.")
    return [
        _instant(schedule, moment)
        for moment in _add_many(schedule, _micros(start), [s * _US for s in seconds])
    ]


def add_business_seconds(schedule: Schedule, start: datetime, seconds: int) -> datetime:
    """The instant at which ``seconds`` business seconds have elapsed since ``start``."""
    if seconds < 0:
        raise ValueError("The amount of business time must not be negative.")
    return _instant(schedule, _add(schedule, _micros(start), seconds * _US))


def add_business_minutes(schedule: Schedule, start: datetime, minutes: int) -> datetime:
    """The instant at which ``minutes`` business minutes have elapsed since ``start``, in the
    calendar's zone. See the module docstring for the end-of-interval and zero-minute rules."""
    if minutes < 0:
        raise ValueError("The amount of business time must not be negative.")
    return _instant(schedule, _add(schedule, _micros(start), minutes * 60 * _US))


def next_working_instant(schedule: Schedule, instant: datetime) -> datetime:
    """``instant`` itself when it is working time, else the next opening."""
    return _instant(schedule, _add(schedule, _micros(instant), 0))


def _between(schedule: Schedule, start: int, end: int) -> int:
    if end <= start:
        return 0
    total = 0
    ordinal = _local_ordinal(schedule, start)
    last = _local_ordinal(schedule, end)
    day_intervals = schedule.day_intervals
    while ordinal <= last:
        for low, high in day_intervals(ordinal):
            low, high = max(low, start), min(high, end)
            if low < high:
                total += high - low
        ordinal += 1
    return total


def business_seconds_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole business seconds from ``start`` to ``end``; 0 when ``end`` is not after ``start``."""
    return _between(schedule, _micros(start), _micros(end)) // _US


def business_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole business minutes from ``start`` to ``end``; 0 when ``end`` is not after ``start``."""
    return _between(schedule, _micros(start), _micros(end)) // (60 * _US)


def is_working(schedule: Schedule, instant: datetime) -> bool:
    moment = _micros(instant)
    intervals = schedule.day_intervals(_local_ordinal(schedule, moment))
    position = bisect.bisect_right(intervals, (moment, float("inf")))
    return position > 0 and intervals[position - 1][0] <= moment < intervals[position - 1][1]
