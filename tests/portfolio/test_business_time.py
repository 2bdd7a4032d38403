"""The business-time engine: properties, a minute-by-minute oracle, every DST transition 2020–2035,
the Znuny working-time vectors, and the calculator on the API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.portfolio.business_time import (
    BeyondHorizon,
    NoWorkingTime,
    add_business_minutes,
    add_business_seconds,
    business_minutes_between,
    business_seconds_between,
    compile_schedule,
    is_working,
    next_working_instant,
)
from tests.portfolio.factories import CalendarFactory

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC")
COUNTRY_OF = {"Europe/Berlin": "DE", "America/New_York": "US", "Australia/Sydney": "AU", "UTC": ""}
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "data" / "sla-working-time"
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def utc(moment: datetime) -> datetime:
    """Compare instants in UTC: aware datetimes in a repeated hour never compare equal across
    zones, and compare by wall clock (ignoring fold) within one (PEP 495)."""
    return moment.astimezone(UTC)


def calendar(zone="UTC", hours=None, country="", subdivision="", closures=(), extra=()):
    return SimpleNamespace(
        time_zone=zone,
        working_hours=hours if hours is not None else {day: [["00:00", "24:00"]] for day in DAYS},
        holiday_country=country,
        holiday_subdivision=subdivision,
        closures=list(closures),
        extra_working_days=list(extra),
    )


def every_day(*intervals):
    return {day: [list(pair) for pair in intervals] for day in DAYS}


OFFICE = {
    **{day: [["08:00", "12:00"], ["13:00", "17:00"]] for day in DAYS[:5]},
    "sat": [],
    "sun": [],
}


# --- the oracle: one minute at a time -----------------------------------------------------------
class Oracle:
    """Counts minutes: the minute starting at instant u is working when u's local wall-clock time
    falls in one of that local date's intervals (all zones here change clocks on whole minutes)."""

    def __init__(self, cal):
        self.zone = ZoneInfo(cal.time_zone)
        self.cal = cal
        self.public = (
            holidays.country_holidays(cal.holiday_country, subdiv=cal.holiday_subdivision or None)
            if cal.holiday_country
            else {}
        )
        weekly = [cal.working_hours.get(day, []) for day in DAYS]
        self.fallback = next((hours for hours in weekly if hours), [["09:00", "17:00"]])

    def hours(self, day: date):
        weekly = self.cal.working_hours.get(DAYS[day.weekday()], [])
        if day.isoformat() in self.cal.extra_working_days:
            return weekly or self.fallback
        if day.isoformat() in self.cal.closures or day in self.public:
            return []
        return weekly

    def working(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        for start, end in self.hours(local.date()):
            low = int(start[:2]) * 60 + int(start[3:])
            high = int(end[:2]) * 60 + int(end[3:])
            if low <= minute < high:
                return True
        return False

    def ends(self, start: datetime, count: int, limit_days: int = 30) -> list[datetime]:
        """The end of each of the first ``count`` working minutes from ``start`` (UTC-aligned)."""
        found, moment, stop = [], start.astimezone(UTC), start + timedelta(days=limit_days)
        while len(found) < count and moment < stop:
            if self.working(moment):
                found.append(moment + timedelta(minutes=1))
            moment += timedelta(minutes=1)
        return found

    def first_working(self, start: datetime, limit_days: int = 30) -> datetime | None:
        moment, stop = start.astimezone(UTC), start + timedelta(days=limit_days)
        while moment < stop:
            if self.working(moment):
                return moment
            moment += timedelta(minutes=1)
        return None


# --- strategies ---------------------------------------------------------------------------------
def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def day_hours(draw):
    kind = draw(st.sampled_from(["none", "full", "office", "split", "random"]))
    if kind == "none":
        return []
    if kind == "full":
        return [["00:00", "24:00"]]
    if kind == "office":
        return [["09:00", "17:00"]]
    if kind == "split":
        return [["08:00", "12:00"], ["13:00", "17:00"]]
    points = sorted(draw(st.sets(st.integers(0, 48), min_size=2, max_size=6)))
    if len(points) % 2:
        points = points[:-1]
    return [[clock(points[i] * 30), clock(points[i + 1] * 30)] for i in range(0, len(points), 2)]


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    hours = {day: draw(day_hours()) for day in DAYS}
    if not any(hours.values()):
        hours["mon"] = [["09:00", "17:00"]]
    base = date(2026, 1, 1)
    around = st.integers(0, 400).map(lambda n: (base + timedelta(days=n)).isoformat())
    return calendar(
        zone=zone,
        hours=hours,
        country=draw(st.sampled_from(["", COUNTRY_OF[zone]])),
        closures=draw(st.lists(around, max_size=8)),
        extra=draw(st.lists(around, max_size=8)),
    )


def transitions(zone_name: str, first=2020, last=2035) -> list[datetime]:
    zone, found = ZoneInfo(zone_name), []
    moment = datetime(first, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment.year <= last:
        moment += timedelta(hours=1)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(moment)  # all three zones change on the hour (UTC)
        previous = offset
    return found


near_transition = st.sampled_from([t for z in ZONES[:3] for t in transitions(z, 2026, 2027)])
starts = st.one_of(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    st.tuples(near_transition, st.integers(-36 * 60, 36 * 60)).map(
        lambda pair: pair[0] + timedelta(minutes=pair[1])
    ),
)


# --- properties ---------------------------------------------------------------------------------
@HYPOTHESIS
@given(cal=calendars(), start=starts, minutes=st.integers(0, 3 * 1440))
def test_agrees_with_the_minute_by_minute_oracle(cal, start, minutes):
    schedule, oracle = compile_schedule(cal), Oracle(cal)
    due = add_business_minutes(schedule, start, minutes)
    if minutes == 0:
        expected = oracle.first_working(start, limit_days=60)
        if expected is not None:
            assert utc(due) == utc(expected)
        return
    ends = oracle.ends(start, minutes, limit_days=60)
    if len(ends) == minutes:
        assert utc(due) == ends[-1]
        assert business_minutes_between(schedule, start, due) == minutes


@HYPOTHESIS
@given(cal=calendars(), start=starts, minutes=st.integers(0, 5 * 1440))
def test_add_then_measure_gives_the_minutes_back(cal, start, minutes):
    schedule = compile_schedule(cal)
    working_start = next_working_instant(schedule, start)
    assert is_working(schedule, working_start)
    due = add_business_minutes(schedule, working_start, minutes)
    assert business_minutes_between(schedule, working_start, due) == minutes
    assert business_minutes_between(schedule, start, due) == minutes


@HYPOTHESIS
@given(cal=calendars(), start=starts, first=st.integers(0, 3000), second=st.integers(0, 3000))
def test_adding_in_two_steps_equals_adding_once(cal, start, first, second):
    schedule = compile_schedule(cal)
    once = add_business_minutes(schedule, start, first + second)
    if second:
        twice = add_business_minutes(schedule, add_business_minutes(schedule, start, first), second)
        assert utc(twice) == utc(once)


@HYPOTHESIS
@given(cal=calendars(), start=starts, minutes=st.integers(0, 3000))
def test_a_due_time_is_never_outside_working_time(cal, start, minutes):
    schedule = compile_schedule(cal)
    due = add_business_minutes(schedule, start, minutes)
    if minutes == 0:
        assert is_working(schedule, due)
        assert utc(due) == utc(start) or not is_working(schedule, start)
    else:
        # The span ends within working time, or exactly where a working interval closes.
        last_minute = due - timedelta(minutes=1)
        assert is_working(schedule, last_minute)


# --- DST, every transition ----------------------------------------------------------------------
DST_CALENDARS = {
    "24x7": every_day(("00:00", "24:00")),
    "night": every_day(("00:00", "04:00"), ("22:00", "24:00")),
    "around-the-change": every_day(("01:00", "02:30"), ("02:45", "03:15")),
}


@pytest.mark.parametrize("zone_name", ZONES[:3])
def test_every_dst_transition_2020_to_2035(zone_name):
    zone = ZoneInfo(zone_name)
    found = transitions(zone_name)
    assert len(found) == 32
    for hours in DST_CALENDARS.values():
        cal = calendar(zone=zone_name, hours=hours)
        schedule, oracle = compile_schedule(cal), Oracle(cal)
        for change in found:
            start = change - timedelta(hours=5)
            ends = oracle.ends(start, 600, limit_days=2)
            for minutes in (1, 59, 60, 61, 119, 120, 121, 180, 240, 300, 599):
                if minutes <= len(ends):
                    assert utc(add_business_minutes(schedule, start, minutes)) == ends[minutes - 1], (
                        zone_name,
                        change,
                        minutes,
                    )
        if hours is DST_CALENDARS["24x7"]:
            for change in found:
                local_day = change.astimezone(zone).date()
                midnight = datetime.combine(local_day, datetime.min.time(), zone)
                next_midnight = datetime.combine(local_day + timedelta(days=1), datetime.min.time(), zone)
                length = business_minutes_between(schedule, midnight, next_midnight)
                assert length in (23 * 60, 25 * 60)
                assert length == (next_midnight - midnight.astimezone(UTC)).total_seconds() // 60


# --- worked examples ----------------------------------------------------------------------------
BERLIN = ZoneInfo("Europe/Berlin")


def test_end_of_interval_and_zero_minutes():
    schedule = compile_schedule(calendar("Europe/Berlin", OFFICE))
    monday_nine = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    assert add_business_minutes(schedule, monday_nine, 180) == datetime(2026, 3, 2, 12, 0, tzinfo=BERLIN)
    assert add_business_minutes(schedule, monday_nine, 420) == datetime(2026, 3, 2, 17, 0, tzinfo=BERLIN)
    assert add_business_minutes(schedule, monday_nine, 421) == datetime(2026, 3, 3, 8, 1, tzinfo=BERLIN)
    assert add_business_minutes(schedule, monday_nine, 0) == monday_nine
    lunch = datetime(2026, 3, 2, 12, 30, tzinfo=BERLIN)
    assert add_business_minutes(schedule, lunch, 0) == datetime(2026, 3, 2, 13, 0, tzinfo=BERLIN)
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=BERLIN)
    assert next_working_instant(schedule, friday_evening) == datetime(2026, 3, 9, 8, 0, tzinfo=BERLIN)
    assert business_minutes_between(schedule, friday_evening, monday_nine) == 0


def test_holidays_closures_and_extra_days():
    cal = calendar(
        "Europe/Berlin",
        OFFICE,
        country="DE",
        subdivision="BE",
        closures=["2026-12-28"],
        extra=["2026-12-26", "2026-12-25"],
    )
    schedule = compile_schedule(cal)
    christmas_eve = datetime(2026, 12, 24, 16, 0, tzinfo=BERLIN)  # a Thursday, a working day
    # 25 Dec (a Friday holiday, but extra: Friday hours); 26 Dec (Saturday, extra: Monday's hours);
    # 27 Dec Sunday; 28 Dec closed; 29 Dec normal.
    assert add_business_minutes(schedule, christmas_eve, 60) == datetime(2026, 12, 24, 17, 0, tzinfo=BERLIN)
    assert add_business_minutes(schedule, christmas_eve, 61) == datetime(2026, 12, 25, 8, 1, tzinfo=BERLIN)
    assert add_business_minutes(schedule, christmas_eve, 60 + 480 + 480 + 1) == datetime(
        2026, 12, 29, 8, 1, tzinfo=BERLIN
    )
    assert not is_working(schedule, datetime(2027, 1, 1, 9, 0, tzinfo=BERLIN))  # New Year


def test_a_calendar_without_working_time_and_the_horizon():
    empty = compile_schedule(calendar(hours={day: [] for day in DAYS}))
    with pytest.raises(NoWorkingTime):
        add_business_minutes(empty, datetime(2026, 1, 1, tzinfo=UTC), 1)
    only_one_day = compile_schedule(calendar(hours={day: [] for day in DAYS}, extra=["2026-01-05"]))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert add_business_minutes(only_one_day, start, 60) == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    with pytest.raises(BeyondHorizon):
        add_business_minutes(only_one_day, start, 481)
    with pytest.raises(BeyondHorizon):
        add_business_minutes(compile_schedule(calendar()), start, 11 * 366 * 1440)
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(compile_schedule(calendar()), datetime(2026, 1, 1), 1)


# --- Znuny vectors ------------------------------------------------------------------------------
def _znuny():
    path = VECTORS / "znuny_working_time_vectors.json"
    if not path.exists():
        pytest.skip(f"Znuny vectors not found at {path} (../shared/data is not present).")
    return json.loads(path.read_text())


def _znuny_case(data, case):
    """Map one case onto our model: slot h is [h:00, h+1:00); yearly vacation days become closures."""
    if case["calendar"] is not None:
        setup = data["calendars"][str(case["calendar"])]
        zone, profile, vacation = setup["time_zone"], setup["working_hours"], setup["vacation_days"]
    else:
        zone, profile, vacation = case["time_zone"], case["working_hours"], case["vacation_days"]
    days = {"Mon": "mon", "Tue": "tue", "Wed": "wed", "Thu": "thu", "Fri": "fri", "Sat": "sat", "Sun": "sun"}
    spec = data["working_hour_profiles"][profile]
    intervals: list[list[str]] = []
    for slot in spec["hour_slots"]:
        if intervals and intervals[-1][1] == f"{slot:02d}:00":
            intervals[-1][1] = f"{slot + 1:02d}:00"
        else:
            intervals.append([f"{slot:02d}:00", f"{slot + 1:02d}:00"])
    hours = {day: [] for day in DAYS}
    for name in spec["days"]:
        hours[days[name]] = intervals
    closures = [
        f"{year}-{month_day}"
        for year in range(2010, 2020)
        for month_day in data["vacation_profiles"][vacation]
    ]
    input_zone = ZoneInfo(case["time_zone"])

    def parse(text):
        return datetime.fromisoformat(text).replace(tzinfo=input_zone)

    return compile_schedule(calendar(zone, hours, closures=closures)), parse, input_zone


def test_znuny_add_working_time_vectors():
    data = _znuny()
    units = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    checked = 0
    for case in data["add_working_time"]:
        if not case["valid"]:
            continue  # invalid units (years, negative amounts) are refused by the API's validation
        schedule, parse, input_zone = _znuny_case(data, case)
        seconds = int(sum(units[unit] * amount for unit, amount in case["add"].items()))
        due = add_business_seconds(schedule, parse(case["start"]), seconds)
        assert due.astimezone(input_zone).strftime("%Y-%m-%d %H:%M:%S") == case["expected_end"], case["id"]
        checked += 1
    assert checked >= 30


def test_znuny_delta_working_time_vectors():
    data = _znuny()
    for case in data["delta_working_time"]:
        schedule, parse, _ = _znuny_case(data, case)
        got = business_seconds_between(schedule, parse(case["start"]), parse(case["end"]))
        assert got == case["expected_working_seconds"], case["id"]


# --- the calculator on the API ------------------------------------------------------------------
@pytest.fixture
def office_calendar(db):
    return CalendarFactory(name="Office", time_zone="Europe/Berlin", working_hours=OFFICE)


@pytest.mark.django_db
def test_the_due_endpoint_answers_in_the_calendar_zone(api_as, make_user, office_calendar):
    client = api_as(make_user(role="agent"))
    url = f"/api/v1/calendars/{office_calendar.pk}/due/"
    response = client.get(url, {"start": "2026-03-02T08:00:00Z", "minutes": "240"})
    assert response.status_code == 200, response.json()
    assert response.json() == {"due": "2026-03-02T14:00:00+01:00"}  # 09:00 + 4 h, lunch skipped
    at_close = client.get(url, {"start": "2026-03-02T09:00:00+01:00", "minutes": "420"})
    assert at_close.json() == {"due": "2026-03-02T17:00:00+01:00"}
    unencoded_plus = client.get(f"{url}?start=2026-03-02T09:00:00+01:00&minutes=0")
    assert unencoded_plus.json() == {"due": "2026-03-02T09:00:00+01:00"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-02T09:00:00", "minutes": "5"}, "start"),
        ({"start": "yesterday", "minutes": "5"}, "start"),
        ({"minutes": "5"}, "start"),
        ({"start": "2026-03-02T09:00:00Z", "minutes": "-5"}, "minutes"),
        ({"start": "2026-03-02T09:00:00Z", "minutes": "1.5"}, "minutes"),
        ({"start": "2026-03-02T09:00:00Z"}, "minutes"),
        ({"start": "2026-03-02T09:00:00Z", "minutes": str(9 * 10**6)}, "minutes"),
    ],
)
def test_bad_input_is_a_problem_detail_naming_the_parameter(api_as, make_user, office_calendar, query, field):
    response = api_as(make_user(role="agent")).get(f"/api/v1/calendars/{office_calendar.pk}/due/", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


@pytest.mark.django_db
def test_a_calendar_without_working_time_is_refused(api_as, make_user):
    from django.core.exceptions import ValidationError

    empty = CalendarFactory(name="Never", working_hours={day: [] for day in DAYS})
    with pytest.raises(ValidationError, match="no working time"):
        empty.full_clean()
    empty.extra_working_days = ["2026-05-02"]
    empty.full_clean()
    empty.extra_working_days = []
    empty.save()
    response = api_as(make_user(role="agent")).get(
        f"/api/v1/calendars/{empty.pk}/due/", {"start": "2026-03-02T09:00:00Z", "minutes": "5"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "no_working_time"
    assert "no working time" in response.json()["detail"]


@pytest.mark.django_db
def test_requesters_cannot_see_the_calculator(api_as, make_user, office_calendar):
    response = api_as(make_user(role="requester")).get(
        f"/api/v1/calendars/{office_calendar.pk}/due/", {"start": "2026-03-02T09:00:00Z", "minutes": "5"}
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_calendar_page_has_a_calculator(client, make_user, office_calendar):
    client.force_login(make_user(role="agent"))
    url = office_calendar.get_absolute_url()
    page = client.get(url, {"start": "2026-03-29T09:00", "minutes": "60"})  # a Sunday: DST starts
    assert page.status_code == 200
    html = page.content.decode()
    assert "Due-time calculator" in html
    assert "Mon 30 Mar 2026, 09:00 CEST" in html
    assert "2026-03-30 07:00 UTC" in html
    refused = client.get(url, {"start": "2026-03-02T09:00", "minutes": "-1"}).content.decode()
    assert "whole number" in refused
    plain = client.get(url).content.decode()
    assert 'data-testid="due-local"' not in plain
