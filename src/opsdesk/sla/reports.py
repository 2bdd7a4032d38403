"""SLA performance reporting: how many timers met their target, per service, team, priority,
organisation, category or month, with the time taken to respond and to resolve.

Definitions (the screen, the CSV, the API and the portal all read them from here):

- *measured*: the timers of the chosen kind started in the period (dates in the site time
  zone, both ends included), whatever their state, cancelled ones left out;
- *met* / *breached*: met timers, and timers whose breach flag is set (finished or still open);
- *finished*: timers in a final state (met or breached);
- *% met*: met ÷ finished × 100, so timers still running count only once they are decided;
  empty when nothing has finished;
- *open at risk*: timers still running or paused that have already breached;
- *response* and *resolution* times: business minutes (the policy calendar's working time)
  taken by the finished first-response and resolution timers; the mean, and the 90th
  percentile by the nearest-rank method (the smallest value at or above 90 % of the values).

The report costs four queries whatever the number of timers or groups: the counts and means
per group, the same over the whole scope, the monthly trend, and the finished durations for
the percentiles (read in order, one number per timer).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Case, Count, F, Q, QuerySet, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.sla.choices import OPEN_TIMER_STATES, Metric, PolicyKind, TimerState
from opsdesk.sla.models import SlaTimer
from opsdesk.tickets.choices import Priority

GROUP_BY = {
    "service": "Service",
    "team": "Team",
    "priority": "Priority",
    "organization": "Organisation",
    "month": "Month",
    "category": "Category",
}
# Grouping a requester may ask for: the support teams behind their tickets are the desk's business.
REQUESTER_GROUP_BY = ("service", "priority", "organization", "month", "category")
MAX_YEARS = 3
# Dates beyond these are typing slips, and near the ends of the calendar they overflow.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
PERCENTILE = 90
FINAL_STATES = (TimerState.MET, TimerState.BREACHED)
NO_VALUE_LABEL = {
    "service": "No service",
    "team": "No team",
    "organization": "No organisation",
    "category": "No category",
    "priority": "No priority",
    "month": "",
}
CSV_COLUMNS = (
    ("label", "Group"),
    ("measured", "Timers measured"),
    ("met", "Met"),
    ("breached", "Breached"),
    ("finished", "Finished"),
    ("pct_met", "% met"),
    ("open", "Open"),
    ("open_at_risk", "Open at risk"),
    ("respond_mean", "Mean response (business min)"),
    ("respond_p90", "P90 response (business min)"),
    ("resolve_mean", "Mean resolution (business min)"),
    ("resolve_p90", "P90 resolution (business min)"),
)
FORMULA_STARTS = ("=", "+", "-", "@")
_TOTAL = object()  # the key of the totals row among the percentile samples


@dataclass
class ReportRow:
    key: Any
    label: str
    measured: int = 0
    met: int = 0
    breached: int = 0
    finished: int = 0
    open: int = 0
    open_at_risk: int = 0
    pct_met: float | None = None
    respond_mean: float | None = None
    respond_p90: float | None = None
    resolve_mean: float | None = None
    resolve_p90: float | None = None


@dataclass
class ComplianceReport:
    start: date
    end: date
    group_by: str
    kind: str
    metric: str | None
    organization_id: int | None
    rows: list[ReportRow] = field(default_factory=list)
    totals: ReportRow | None = None
    trend: list[ReportRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.totals or not self.totals.measured

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "group_by": self.group_by,
            "kind": self.kind,
            "metric": self.metric,
            "organization": self.organization_id,
            "rows": [asdict(row) for row in self.rows],
            "totals": asdict(self.totals) if self.totals else None,
            "trend": [asdict(row) for row in self.trend],
        }


# --- validation -------------------------------------------------------------------------------


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check(*, user: User, start: date, end: date, group_by: str, kind: str, metric: str | None) -> None:
    if group_by not in GROUP_BY:
        raise ServiceError(f"Group by one of: {', '.join(GROUP_BY)}.", field="group_by")
    if kind not in PolicyKind.values:
        raise ServiceError(f"The kind is one of: {', '.join(PolicyKind.values)}.", field="kind")
    if metric is not None and metric not in Metric.values:
        raise ServiceError(f"The metric is one of: {', '.join(Metric.values)}.", field="metric")
    for name, day in (("start", start), ("end", end)):
        if not EARLIEST <= day <= LATEST:
            raise ServiceError(f"Choose a date from {EARLIEST} to {LATEST}.", field=name)
    if start > end:
        raise ServiceError("The period starts after it ends: swap the dates.", field="start")
    if end > _years_later(start, MAX_YEARS):
        raise ServiceError(f"A report covers at most {MAX_YEARS} years: shorten the period.", field="end")
    if not user.is_agent:
        if kind != PolicyKind.SLA:
            raise ServiceError(
                "Only the service levels agreed with you (SLA) are reported here.", field="kind"
            )
        if group_by not in REQUESTER_GROUP_BY:
            raise ServiceError(f"Group by one of: {', '.join(REQUESTER_GROUP_BY)}.", field="group_by")


def report_organization_for(user: User, organization_id: int | None) -> int | None:
    """The organisation a report may cover: any (or none) for staff, a requester's own only."""
    if user.is_agent:
        return organization_id
    if not user.organization_id:
        raise NotAllowed(
            "SLA reports cover an organisation's tickets, and your account belongs to none.",
            field="organization",
        )
    return user.organization_id


# --- the report -------------------------------------------------------------------------------


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _group_expressions(group_by: str) -> tuple[Any, Any]:
    """(key, label) expressions of one grouping."""
    if group_by == "team":
        return (
            Coalesce("team_id", "ticket__assigned_team_id"),
            Case(When(team__isnull=False, then=F("team__name")), default=F("ticket__assigned_team__name")),
        )
    if group_by == "priority":
        return F("ticket__priority"), F("ticket__priority")
    if group_by == "month":
        month = TruncMonth("started_at", tzinfo=timezone.get_default_timezone())
        return month, month
    related = {"service": "service", "organization": "organization", "category": "category"}[group_by]
    return F(f"ticket__{related}_id"), F(f"ticket__{related}__name")


def _counts() -> dict[str, Any]:
    # Prefixed names: "breached" would shadow the model field the filters read.
    finished = Q(state__in=FINAL_STATES)
    return {
        "n_measured": Count("pk"),
        "n_met": Count("pk", filter=Q(state=TimerState.MET)),
        "n_breached": Count("pk", filter=Q(breached=True)),
        "n_finished": Count("pk", filter=finished),
        "n_open": Count("pk", filter=Q(state__in=OPEN_TIMER_STATES)),
        "n_open_at_risk": Count("pk", filter=Q(state__in=OPEN_TIMER_STATES, breached=True)),
        "n_respond_avg": Avg("elapsed_seconds", filter=finished & Q(metric=Metric.FIRST_RESPONSE)),
        "n_resolve_avg": Avg("elapsed_seconds", filter=finished & Q(metric=Metric.RESOLUTION)),
    }


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def nearest_rank(values: list[int], percentile: int = PERCENTILE) -> int | None:
    """The nearest-rank percentile of ``values`` (already sorted ascending)."""
    if not values:
        return None
    return values[max(0, math.ceil(percentile / 100 * len(values)) - 1)]


def _fill(row: ReportRow, figures: dict[str, Any]) -> ReportRow:
    for name in ("measured", "met", "breached", "finished", "open", "open_at_risk"):
        setattr(row, name, figures.get(f"n_{name}") or 0)
    row.pct_met = round(100 * row.met / row.finished, 1) if row.finished else None
    row.respond_mean = _minutes(figures.get("n_respond_avg"))
    row.resolve_mean = _minutes(figures.get("n_resolve_avg"))
    return row


def _month_key(value: Any) -> str:
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value, timezone.get_default_timezone())
    return f"{value.year:04d}-{value.month:02d}"


def _label(group_by: str, key: Any, label: Any) -> str:
    if key is None:
        return NO_VALUE_LABEL[group_by]
    if group_by == "priority":
        return Priority(key).label if key in Priority.values else f"P{key}"
    if group_by == "month":
        return key
    return str(label) if label is not None else NO_VALUE_LABEL[group_by]


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def report_timers(
    *, user: User, start: date, end: date, kind: str, metric: str | None, organization_id: int | None
) -> QuerySet[SlaTimer]:
    """The timers a report counts, as ``user`` may see them."""
    since, until = _bounds(start, end)
    timers = SlaTimer.objects.restrict(user, "view").filter(
        kind=kind, started_at__gte=since, started_at__lt=until
    )
    timers = timers.exclude(state=TimerState.CANCELLED)
    if metric:
        timers = timers.filter(metric=metric)
    if organization_id is not None:
        timers = timers.filter(ticket__organization_id=organization_id)
    return timers.order_by()


def compliance_report(
    *,
    user: User,
    start: date,
    end: date,
    group_by: str,
    kind: str = PolicyKind.SLA,
    metric: str | None = None,
    organization_id: int | None = None,
) -> ComplianceReport:
    """The SLA compliance of the timers started in [start, end], grouped by ``group_by``, with a
    totals row and the monthly trend. Requesters get their own organisation's SLA timers only,
    whatever ``organization_id`` says. Raises ServiceError on a bad parameter."""
    _check(user=user, start=start, end=end, group_by=group_by, kind=kind, metric=metric)
    organization_id = report_organization_for(user, organization_id)
    report = ComplianceReport(
        start=start, end=end, group_by=group_by, kind=kind, metric=metric, organization_id=organization_id
    )
    timers = report_timers(
        user=user, start=start, end=end, kind=kind, metric=metric, organization_id=organization_id
    )
    key_expression, label_expression = _group_expressions(group_by)
    month = TruncMonth("started_at", tzinfo=timezone.get_default_timezone())

    # 1. counts and means per group
    rows: dict[Any, ReportRow] = {}
    for figures in (
        timers.annotate(group_key=key_expression, group_label=label_expression)
        .values("group_key", "group_label")
        .annotate(**_counts())
    ):
        key = figures["group_key"]
        key = _month_key(key) if group_by == "month" and key is not None else key
        rows[key] = _fill(ReportRow(key=key, label=_label(group_by, key, figures["group_label"])), figures)
    # 2. the same over the whole scope
    report.totals = _fill(ReportRow(key=None, label="Total"), timers.aggregate(**_counts()))
    # 3. the monthly trend, every month of the period present
    trend = {month_key: ReportRow(key=month_key, label=month_key) for month_key in _months(start, end)}
    for figures in timers.annotate(month=month).values("month").annotate(**_counts()):
        month_key = _month_key(figures["month"])
        if month_key in trend:
            _fill(trend[month_key], figures)
    # 4. finished durations, in order, for the percentiles
    durations: dict[tuple[Any, str], list[int]] = defaultdict(list)
    finished = (
        timers.filter(state__in=FINAL_STATES, metric__in=(Metric.FIRST_RESPONSE, Metric.RESOLUTION))
        .annotate(group_key=key_expression)
        .values_list("group_key", "metric", "elapsed_seconds")
        .order_by("elapsed_seconds")
    )
    for key, metric_name, seconds in finished:
        key = _month_key(key) if group_by == "month" and key is not None else key
        durations[(key, metric_name)].append(seconds)
        durations[(_TOTAL, metric_name)].append(seconds)
    for key, row in [*rows.items(), (_TOTAL, report.totals)]:
        row.respond_p90 = _minutes(nearest_rank(durations.get((key, Metric.FIRST_RESPONSE), [])))
        row.resolve_p90 = _minutes(nearest_rank(durations.get((key, Metric.RESOLUTION), [])))

    report.rows = sorted(rows.values(), key=lambda row: _order(group_by, row))
    report.trend = list(trend.values())
    return report


def _order(group_by: str, row: ReportRow) -> tuple:
    # Months and priorities in their own order; names alphabetically; "no value" last.
    if row.key is None:
        return (1, "", 0)
    if group_by in ("month", "priority"):
        return (0, "", row.key)
    return (0, row.label.casefold(), 0)


# --- CSV ----------------------------------------------------------------------------------------


def _defuse(value: Any) -> Any:
    # A cell starting with = + - or @ would run as a formula in a spreadsheet: quote it away.
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv_rows(report: ComplianceReport) -> Iterable[list[Any]]:
    yield [title for _name, title in CSV_COLUMNS]
    for row in [*report.rows, report.totals]:
        if row is None:
            continue
        yield [
            _defuse("" if getattr(row, name) is None else getattr(row, name)) for name, _title in CSV_COLUMNS
        ]


def report_to_csv(report: ComplianceReport) -> str:
    """One header row, one row per group, then the totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(_csv_rows(report))
    return buffer.getvalue()
