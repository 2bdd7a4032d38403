"""The request catalogue's figures: requests by item, approval wait times, fulfilment against
the expected delivery date, and task times against their targets per team.

Definitions (the page, the CSV and docs/catalog.md all read them from here):

- the *cohort* is the orders placed in the period (the request's ``created_at``, dates in the
  site time zone, both ends included); every table counts that cohort's requests, approvals
  and tasks, so the four tables describe the same orders;
- *approved* / *rejected*: requests whose approval ended that way (an item without approval
  steps counts as approved once fulfilment starts); *% approved* and *% rejected* are of the
  requests whose approval is decided, so orders still waiting count once they are decided;
- *approval wait*: from the moment an approver was asked (``requested_at``) to their decision
  (``decided_at``), in hours of the clock, for every decided approval; approvals no longer
  needed (skipped) are left out; *waiting* counts the approvals still pending. Approvals are
  grouped by their step's kind and approval group as they were when the request was ordered
  (kept on each approval), so editing an item's steps later does not regroup past waits;
- *on time*: fulfilled no later than the delivery date expected when ordered; *mean lateness*
  is the mean of (fulfilled − expected) over the late ones, in days; *mean delivery* is the
  mean time from order to fulfilment, in days; *overdue* counts requests in fulfilment past
  their expected date now;
- *within target*: a task done no later than its due time (its target in business minutes on
  the service's hours); task *time* is from opening to done, in hours of the clock.
- means are computed by the database; the 90th percentile by the nearest-rank method in Python
  over at most ``MAX_SAMPLES`` most recent durations per table (flagged ``sampled`` beyond).

The report costs five queries whatever the number of requests, items or teams.
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

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import User
from opsdesk.catalog.choices import (
    OPEN_TASK_STATES,
    ApprovalState,
    ApproverKind,
    RequestState,
    TaskState,
)
from opsdesk.catalog.models import Approval, CatalogRequest, RequestTask
from opsdesk.core.exceptions import NotAllowed, ServiceError

MAX_YEARS = 3
# Dates beyond these are typing slips, and near the ends of the calendar they overflow.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
PERCENTILE = 90
# Percentiles read one number per row: past this many rows per table they are taken over the
# most recent ones, so a report over years of orders stays a bounded read.
MAX_SAMPLES = 20_000
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
DECIDED = (ApprovalState.APPROVED, ApprovalState.REJECTED)
APPROVED_STATES = (RequestState.IN_FULFILMENT, RequestState.FULFILLED)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NO_GROUP = "No approval group"
# Approvals written before the step's kind was kept on them.
UNKNOWN_KIND = "Step kind not recorded"
TABLES = {
    "items": "Requests by item",
    "approval_kinds": "Approval waits by step kind",
    "approval_groups": "Approval waits by approval group",
    "tasks": "Fulfilment tasks by team",
}


def may_see_figures(user: User) -> bool:
    """Managers (and those who read everything: admins, auditors) and team leads."""
    return user.is_active and (user.can_read_all or user.role == Role.TEAM_LEAD)


@dataclass
class ItemRow:
    key: Any
    label: str
    requests: int = 0
    approved: int = 0
    rejected: int = 0
    awaiting: int = 0
    cancelled: int = 0
    pct_approved: float | None = None
    pct_rejected: float | None = None
    fulfilled: int = 0
    on_time: int = 0
    late: int = 0
    pct_on_time: float | None = None
    mean_lateness_days: float | None = None
    mean_delivery_days: float | None = None
    overdue: int = 0


@dataclass
class WaitRow:
    key: Any
    label: str
    decided: int = 0
    approved: int = 0
    rejected: int = 0
    waiting: int = 0
    mean_hours: float | None = None
    p90_hours: float | None = None


@dataclass
class TaskRow:
    key: Any
    label: str
    done: int = 0
    within_target: int = 0
    pct_within_target: float | None = None
    mean_hours: float | None = None
    p90_hours: float | None = None
    open: int = 0
    overdue: int = 0


@dataclass
class CatalogReport:
    start: date
    end: date
    items: list[ItemRow] = field(default_factory=list)
    items_total: ItemRow | None = None
    approval_kinds: list[WaitRow] = field(default_factory=list)
    approval_groups: list[WaitRow] = field(default_factory=list)
    approvals_total: WaitRow | None = None
    tasks: list[TaskRow] = field(default_factory=list)
    tasks_total: TaskRow | None = None
    sampled: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.items_total or not self.items_total.requests

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "items": [asdict(row) for row in self.items],
            "items_total": asdict(self.items_total) if self.items_total else None,
            "approval_kinds": [asdict(row) for row in self.approval_kinds],
            "approval_groups": [asdict(row) for row in self.approval_groups],
            "approvals_total": asdict(self.approvals_total) if self.approvals_total else None,
            "tasks": [asdict(row) for row in self.tasks],
            "tasks_total": asdict(self.tasks_total) if self.tasks_total else None,
            "sampled": self.sampled,
        }


# --- validation and helpers ---------------------------------------------------------------------


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check(*, user: User, start: date, end: date) -> None:
    if not may_see_figures(user):
        raise NotAllowed("The catalogue's figures are for managers and team leads.")
    for name, day in (("start", start), ("end", end)):
        if not EARLIEST <= day <= LATEST:
            raise ServiceError(f"Choose a date from {EARLIEST} to {LATEST}.", field=name)
    if start > end:
        raise ServiceError("The period starts after it ends: swap the dates.", field="start")
    if end > _years_later(start, MAX_YEARS):
        raise ServiceError(f"A report covers at most {MAX_YEARS} years: shorten the period.", field="end")


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _span(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _seconds(value: Any) -> float | None:
    """A duration from the database (a timedelta; SQLite may answer microseconds) in seconds."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000


def _in(seconds: float | None, unit: int) -> float | None:
    return None if seconds is None else round(seconds / unit, 1)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def nearest_rank(values: list[float], percentile: int = PERCENTILE) -> float | None:
    """The nearest-rank percentile of ``values`` (already sorted ascending)."""
    if not values:
        return None
    return values[max(0, math.ceil(percentile / 100 * len(values)) - 1)]


def _weighted_mean(pairs: Iterable[tuple[int, float | None]]) -> float | None:
    """The mean over several groups from each group's (count, mean)."""
    total = weight = 0.0
    for count, mean in pairs:
        if mean is not None and count:
            total += count * mean
            weight += count
    return total / weight if weight else None


def cohort(*, user: User, start: date, end: date) -> QuerySet[CatalogRequest]:
    """The requests ordered in [start, end] that ``user`` may see."""
    since, until = _bounds(start, end)
    return (
        CatalogRequest.objects.restrict(user, "view")
        .filter(created_at__gte=since, created_at__lt=until)
        .order_by()
    )


# --- the report -------------------------------------------------------------------------------


def catalog_report(*, user: User, start: date, end: date, now: datetime | None = None) -> CatalogReport:
    """The catalogue's figures over the orders placed in [start, end]. Raises NotAllowed for
    people other than managers and team leads, ServiceError for a bad period."""
    _check(user=user, start=start, end=end)
    now = now or timezone.now()
    report = CatalogReport(start=start, end=end)
    requests = cohort(user=user, start=start, end=end)
    report.items, report.items_total = _items(requests, now)
    sampled_waits = _approvals(report, user=user, requests=requests)
    sampled_tasks = _tasks(report, user=user, requests=requests, now=now)
    report.sampled = sampled_waits or sampled_tasks
    return report


def _items(requests: QuerySet[CatalogRequest], now: datetime) -> tuple[list[ItemRow], ItemRow]:
    """One query: per item, the requests by outcome and the delivery against the expected date."""
    fulfilled = Q(fulfilled_at__isnull=False)
    on_time = fulfilled & Q(expected_at__isnull=False, fulfilled_at__lte=F("expected_at"))
    late = fulfilled & Q(expected_at__isnull=False, fulfilled_at__gt=F("expected_at"))
    approved = Q(approved_at__isnull=False) | Q(state__in=APPROVED_STATES)
    figures = (
        requests.values("item_id", "item__name")
        .annotate(
            n_requests=Count("pk"),
            n_approved=Count("pk", filter=approved),
            n_rejected=Count("pk", filter=Q(state=RequestState.REJECTED)),
            n_awaiting=Count("pk", filter=Q(state=RequestState.AWAITING_APPROVAL)),
            n_cancelled=Count("pk", filter=Q(state=RequestState.CANCELLED)),
            n_fulfilled=Count("pk", filter=fulfilled),
            n_on_time=Count("pk", filter=on_time),
            n_late=Count("pk", filter=late),
            n_overdue=Count(
                "pk", filter=Q(state=RequestState.IN_FULFILMENT, expected_at__lt=now, fulfilled_at=None)
            ),
            n_lateness=Avg(_span("fulfilled_at", "expected_at"), filter=late),
            n_delivery=Avg(_span("fulfilled_at", "created_at"), filter=fulfilled),
        )
        .order_by()
    )
    rows = [_item_row(ItemRow(key=f["item_id"], label=f["item__name"]), f) for f in figures]
    total = ItemRow(key=None, label="Total")
    for name in ("requests", "approved", "rejected", "awaiting", "cancelled", "fulfilled", "on_time", "late"):
        setattr(total, name, sum(getattr(row, name) for row in rows))
    total.overdue = sum(row.overdue for row in rows)
    _item_shares(total)
    total.mean_lateness_days = _round(_weighted_mean((row.late, row.mean_lateness_days) for row in rows))
    total.mean_delivery_days = _round(_weighted_mean((row.fulfilled, row.mean_delivery_days) for row in rows))
    rows.sort(key=lambda row: (-row.requests, row.label.casefold()))
    return rows, total


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _item_row(row: ItemRow, figures: dict[str, Any]) -> ItemRow:
    for name in ("requests", "approved", "rejected", "awaiting", "cancelled", "fulfilled", "on_time", "late"):
        setattr(row, name, figures[f"n_{name}"] or 0)
    row.overdue = figures["n_overdue"] or 0
    _item_shares(row)
    row.mean_lateness_days = _in(_seconds(figures["n_lateness"]), SECONDS_PER_DAY)
    row.mean_delivery_days = _in(_seconds(figures["n_delivery"]), SECONDS_PER_DAY)
    return row


def _item_shares(row: ItemRow) -> None:
    decided = row.approved + row.rejected
    row.pct_approved = _pct(row.approved, decided)
    row.pct_rejected = _pct(row.rejected, decided)
    row.pct_on_time = _pct(row.on_time, row.on_time + row.late)


def _approvals(report: CatalogReport, *, user: User, requests: QuerySet[CatalogRequest]) -> bool:
    """Two queries: counts and mean waits per (step kind, group); then the decided waits for the
    percentiles. Returns whether the percentiles were taken over a sample."""
    approvals = (
        Approval.objects.restrict(user, "view")
        .filter(request__in=requests.values("pk"))
        .exclude(state__in=(ApprovalState.WAITING, ApprovalState.SKIPPED))
        .order_by()
    )
    decided = Q(state__in=DECIDED, decided_at__isnull=False, requested_at__isnull=False)
    by_kind: dict[Any, WaitRow] = {}
    by_group: dict[Any, WaitRow] = {}
    total = WaitRow(key=None, label="Total")
    means: dict[int, list[tuple[int, float | None]]] = defaultdict(list)
    for figures in approvals.values("step_kind", "step_group_id", "step_group__name").annotate(
        n_decided=Count("pk", filter=decided),
        n_approved=Count("pk", filter=decided & Q(state=ApprovalState.APPROVED)),
        n_rejected=Count("pk", filter=decided & Q(state=ApprovalState.REJECTED)),
        n_waiting=Count("pk", filter=Q(state=ApprovalState.PENDING)),
        n_wait=Avg(_span("decided_at", "requested_at"), filter=decided),
    ):
        kind = figures["step_kind"]
        rows = [
            by_kind.setdefault(kind, WaitRow(key=kind, label=_kind_label(kind))),
            total,
        ]
        if kind == ApproverKind.GROUP:
            key = figures["step_group_id"]
            label = figures["step_group__name"] or NO_GROUP
            rows.append(by_group.setdefault(key, WaitRow(key=key, label=label)))
        mean = _seconds(figures["n_wait"])
        for row in rows:
            row.decided += figures["n_decided"]
            row.approved += figures["n_approved"]
            row.rejected += figures["n_rejected"]
            row.waiting += figures["n_waiting"]
            means[id(row)].append((figures["n_decided"], mean))
    waits = list(
        approvals.filter(decided)
        .annotate(wait=_span("decided_at", "requested_at"))
        .order_by("-decided_at")
        .values_list("step_kind", "step_group_id", "wait")[: MAX_SAMPLES + 1]
    )
    sampled = len(waits) > MAX_SAMPLES
    samples: dict[int, list[float]] = defaultdict(list)
    for kind, group_key, wait in waits[:MAX_SAMPLES]:
        seconds = _seconds(wait) or 0.0
        samples[id(total)].append(seconds)
        if kind in by_kind:
            samples[id(by_kind[kind])].append(seconds)
        if kind == ApproverKind.GROUP and group_key in by_group:
            samples[id(by_group[group_key])].append(seconds)
    for row in [*by_kind.values(), *by_group.values(), total]:
        row.mean_hours = _in(_weighted_mean(means[id(row)]), SECONDS_PER_HOUR)
        row.p90_hours = _in(nearest_rank(sorted(samples[id(row)])), SECONDS_PER_HOUR)
    kind_order = list(ApproverKind.values)
    report.approval_kinds = sorted(
        by_kind.values(),
        key=lambda row: kind_order.index(row.key) if row.key in kind_order else len(kind_order),
    )
    report.approval_groups = sorted(by_group.values(), key=lambda row: row.label.casefold())
    report.approvals_total = total
    return sampled


def _kind_label(kind: str | None) -> str:
    return ApproverKind(kind).label if kind in ApproverKind.values else UNKNOWN_KIND


def _tasks(report: CatalogReport, *, user: User, requests: QuerySet[CatalogRequest], now: datetime) -> bool:
    """Two queries: per team, the tasks done within target, mean time and open ones; then the
    done tasks' times for the percentiles. Returns whether the percentiles were sampled."""
    tasks = (
        RequestTask.objects.restrict(user, "view")
        .filter(request__in=requests.values("pk"))
        .exclude(state=TaskState.CANCELLED)
        .order_by()
    )
    done = Q(state=TaskState.DONE, done_at__isnull=False, opened_at__isnull=False)
    rows: dict[Any, TaskRow] = {}
    for figures in tasks.values("team_id", "team__name").annotate(
        n_done=Count("pk", filter=done),
        n_within=Count("pk", filter=done & Q(due_at__isnull=False, done_at__lte=F("due_at"))),
        n_open=Count("pk", filter=Q(state__in=OPEN_TASK_STATES)),
        n_overdue=Count("pk", filter=Q(state__in=OPEN_TASK_STATES, due_at__lt=now)),
        n_time=Avg(_span("done_at", "opened_at"), filter=done),
    ):
        row = TaskRow(
            key=figures["team_id"],
            label=figures["team__name"],
            done=figures["n_done"],
            within_target=figures["n_within"],
            open=figures["n_open"],
            overdue=figures["n_overdue"],
        )
        row.pct_within_target = _pct(row.within_target, row.done)
        row.mean_hours = _in(_seconds(figures["n_time"]), SECONDS_PER_HOUR)
        rows[row.key] = row
    total = TaskRow(key=None, label="Total")
    for name in ("done", "within_target", "open", "overdue"):
        setattr(total, name, sum(getattr(row, name) for row in rows.values()))
    total.pct_within_target = _pct(total.within_target, total.done)
    total.mean_hours = _round(_weighted_mean((row.done, row.mean_hours) for row in rows.values()))
    times = list(
        tasks.filter(done)
        .annotate(took=_span("done_at", "opened_at"))
        .order_by("-done_at")
        .values_list("team_id", "took")[: MAX_SAMPLES + 1]
    )
    samples: dict[Any, list[float]] = defaultdict(list)
    everything: list[float] = []
    for team_id, took in times[:MAX_SAMPLES]:
        seconds = _seconds(took) or 0.0
        samples[team_id].append(seconds)
        everything.append(seconds)
    for key, row in rows.items():
        row.p90_hours = _in(nearest_rank(sorted(samples[key])), SECONDS_PER_HOUR)
    total.p90_hours = _in(nearest_rank(sorted(everything)), SECONDS_PER_HOUR)
    report.tasks = sorted(rows.values(), key=lambda row: row.label.casefold())
    report.tasks_total = total
    return len(times) > MAX_SAMPLES


# --- CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "items": (
        ("label", "Item"),
        ("requests", "Requests"),
        ("approved", "Approved"),
        ("rejected", "Rejected"),
        ("awaiting", "Awaiting approval"),
        ("cancelled", "Cancelled"),
        ("pct_approved", "% approved"),
        ("pct_rejected", "% rejected"),
        ("fulfilled", "Fulfilled"),
        ("on_time", "On time"),
        ("late", "Late"),
        ("pct_on_time", "% on time"),
        ("mean_lateness_days", "Mean lateness (days)"),
        ("mean_delivery_days", "Mean delivery (days)"),
        ("overdue", "Overdue now"),
    ),
    "approval_kinds": (
        ("label", "Step kind"),
        ("decided", "Decided"),
        ("approved", "Approved"),
        ("rejected", "Rejected"),
        ("waiting", "Waiting"),
        ("mean_hours", "Mean wait (hours)"),
        ("p90_hours", "P90 wait (hours)"),
    ),
    "tasks": (
        ("label", "Team"),
        ("done", "Done"),
        ("within_target", "Within target"),
        ("pct_within_target", "% within target"),
        ("mean_hours", "Mean time (hours)"),
        ("p90_hours", "P90 time (hours)"),
        ("open", "Open"),
        ("overdue", "Overdue now"),
    ),
}
CSV_COLUMNS["approval_groups"] = (("label", "Approval group"), *CSV_COLUMNS["approval_kinds"][1:])


def _defuse(value: Any) -> Any:
    # A cell starting with = + - @ (or a tab or carriage return) would run as a formula in a
    # spreadsheet: quote it away. Item and group names are typed by people.
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def table_rows(report: CatalogReport, table: str) -> tuple[list[Any], Any]:
    """The rows of one table and its totals row (None for the per-group approval table)."""
    if table == "items":
        return list(report.items), report.items_total
    if table == "approval_kinds":
        return list(report.approval_kinds), report.approvals_total
    if table == "approval_groups":
        return list(report.approval_groups), None
    if table == "tasks":
        return list(report.tasks), report.tasks_total
    raise ServiceError(f"The table is one of: {', '.join(TABLES)}.", field="table")


def report_to_csv(report: CatalogReport, table: str) -> str:
    """One table as CSV: a header row, one row per group, then the totals row."""
    rows, total = table_rows(report, table)
    columns = CSV_COLUMNS[table]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([title for _name, title in columns])
    for row in [*rows, *([total] if total else [])]:
        writer.writerow(
            [_defuse("" if getattr(row, name) is None else getattr(row, name)) for name, _ in columns]
        )
    return buffer.getvalue()
