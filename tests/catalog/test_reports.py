"""The catalogue's figures: what a manager reads on /catalog/reports/ and in the CSV.

The records are written with known times (orders, decisions, task ends) so that every figure can
be checked by hand; the same tables fed by the services are in test_demo.py."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, RequestState, TaskState
from opsdesk.catalog.models import Approval, ApprovalStep, CatalogRequest, RequestTask
from opsdesk.catalog.reports import MAX_SAMPLES, catalog_report, nearest_rank, report_to_csv
from opsdesk.catalog.services.approvals import approval_decide
from opsdesk.catalog.services.definitions import approval_steps_save
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets.choices import TicketType
from opsdesk.tickets.services import ticket_create
from tests.accounts.factories import TeamFactory
from tests.catalog.approval_factories import group_step, make_item, order, people
from tests.catalog.factories import ApprovalGroupFactory, CatalogItemFactory

__all__ = ["people"]  # the fixture, used by name

pytestmark = pytest.mark.django_db
ZONE = timezone.get_default_timezone()
DAY = datetime(2025, 3, 10, 9, 0, tzinfo=ZONE)  # a Monday
HOUR = timedelta(hours=1)


class World:
    """Two items, one approval group, two teams and a manager reading the figures."""

    def __init__(self, make_user):
        self.manager = make_user(Role.MANAGER)
        self.requester = make_user(Role.REQUESTER)
        self.approvers = [make_user(Role.AGENT) for _ in range(3)]
        self.group = ApprovalGroupFactory(name="Finance approvers", members=self.approvers)
        self.laptop = CatalogItemFactory(name="New laptop")
        self.share = CatalogItemFactory(name="=Access to the finance share")  # a formula-like name
        ApprovalStep.objects.create(item=self.laptop, position=1, kind=ApproverKind.MANAGER)
        ApprovalStep.objects.create(
            item=self.share, position=1, kind=ApproverKind.GROUP, group=self.group, required=2
        )
        self.workplace = TeamFactory(name="Workplace Support")
        self.network = TeamFactory(name="Network Operations")
        self.sequence = 0

    def order(self, item, *, at, state, expected_days=5, fulfilled_after_days=None, approved=True):
        ticket = ticket_create(actor=self.requester, title=f"Order {item}", type=TicketType.REQUEST)
        request = CatalogRequest.objects.create(
            ticket=ticket,
            item=item,
            ordered_by=self.requester,
            requested_for=self.requester,
            price=Decimal("10"),
            currency="EUR",
            state=state,
            expected_at=at + timedelta(days=expected_days),
            approved_at=at + HOUR if approved else None,
            fulfilled_at=at + timedelta(days=fulfilled_after_days)
            if fulfilled_after_days is not None
            else None,
        )
        CatalogRequest.objects.filter(pk=request.pk).update(created_at=at)
        return request

    def approval(self, request, approver, *, asked, waited_hours=None, state=ApprovalState.APPROVED, step=1):
        # The step's kind and group as the approval engine keeps them when the request is ordered.
        definition = request.item.approval_steps.get(position=step)
        return Approval.objects.create(
            request=request,
            step=step,
            step_name="Step",
            step_kind=definition.kind,
            step_group=definition.group,
            approver=approver,
            state=state,
            requested_at=asked,
            decided_at=asked + waited_hours * HOUR if waited_hours is not None else None,
        )

    def task(self, request, team, *, opened, hours=None, target_hours=8, state=TaskState.DONE):
        self.sequence += 1
        return RequestTask.objects.create(
            request=request,
            number=f"TASK{self.sequence:05d}",
            name="Task",
            team=team,
            state=state,
            target_minutes=target_hours * 60,
            opened_at=opened,
            due_at=opened + target_hours * HOUR,
            done_at=opened + hours * HOUR if hours is not None else None,
        )


@pytest.fixture
def world(make_user):
    return World(make_user)


@pytest.fixture
def loaded(world):
    """Three laptops (one on time, one late by two days, one rejected) and two share requests
    (one awaiting the group, one cancelled) ordered in March; one laptop ordered long before."""
    on_time = world.order(world.laptop, at=DAY, state=RequestState.FULFILLED, fulfilled_after_days=4)
    late = world.order(world.laptop, at=DAY, state=RequestState.FULFILLED, fulfilled_after_days=7)
    rejected = world.order(world.laptop, at=DAY, state=RequestState.REJECTED, approved=False)
    waiting = world.order(
        world.share, at=DAY + timedelta(days=1), state=RequestState.AWAITING_APPROVAL, approved=False
    )
    world.order(world.share, at=DAY, state=RequestState.CANCELLED, approved=False)
    world.order(
        world.laptop, at=DAY - timedelta(days=400), state=RequestState.FULFILLED, fulfilled_after_days=1
    )
    boss = world.approvers[0]
    world.approval(on_time, boss, asked=DAY, waited_hours=2)
    world.approval(late, boss, asked=DAY, waited_hours=4)
    world.approval(rejected, boss, asked=DAY, waited_hours=30, state=ApprovalState.REJECTED)
    world.approval(waiting, world.approvers[0], asked=DAY + timedelta(days=1), waited_hours=10)
    world.approval(waiting, world.approvers[1], asked=DAY + timedelta(days=1), state=ApprovalState.PENDING)
    world.approval(waiting, world.approvers[2], asked=DAY + timedelta(days=1), state=ApprovalState.SKIPPED)
    world.task(on_time, world.workplace, opened=DAY + HOUR, hours=3)
    world.task(on_time, world.network, opened=DAY + HOUR, hours=12)  # over its 8 h target
    world.task(late, world.workplace, opened=DAY + HOUR, hours=5)
    world.task(late, world.network, opened=DAY + HOUR, state=TaskState.IN_PROGRESS)  # still open, overdue
    world.task(late, world.network, opened=DAY + HOUR, state=TaskState.CANCELLED)
    return world


def report_for(user, **kwargs):
    return catalog_report(
        user=user,
        start=kwargs.pop("start", DAY.date()),
        end=kwargs.pop("end", DAY.date() + timedelta(days=30)),
        **kwargs,
    )


def test_requests_by_item_count_outcomes_and_delivery_against_the_expected_date(loaded):
    report = report_for(loaded.manager, now=DAY + timedelta(days=20))
    laptop, share = report.items
    assert (laptop.label, laptop.requests, laptop.approved, laptop.rejected) == ("New laptop", 3, 2, 1)
    assert (laptop.pct_approved, laptop.pct_rejected) == (66.7, 33.3)
    assert (laptop.fulfilled, laptop.on_time, laptop.late, laptop.pct_on_time) == (2, 1, 1, 50.0)
    assert laptop.mean_lateness_days == 2.0  # fulfilled after 7 days, expected after 5
    assert laptop.mean_delivery_days == 5.5  # (4 + 7) / 2
    # Nothing decided yet: the shares are empty, not 0 %.
    assert (share.requests, share.awaiting, share.cancelled, share.pct_approved) == (2, 1, 1, None)
    assert share.pct_on_time is None and share.mean_delivery_days is None
    total = report.items_total
    assert (total.requests, total.approved, total.rejected, total.pct_approved) == (5, 2, 1, 66.7)
    assert (total.mean_lateness_days, total.mean_delivery_days) == (2.0, 5.5)


def test_approval_waits_per_step_kind_and_per_group_leave_out_skipped_approvals(loaded):
    report = report_for(loaded.manager)
    manager, group = report.approval_kinds
    assert (manager.label, manager.decided, manager.approved, manager.rejected) == (
        "The requester's manager",
        3,
        2,
        1,
    )
    assert manager.mean_hours == 12.0  # (2 + 4 + 30) / 3
    assert manager.p90_hours == 30.0
    assert (group.decided, group.waiting, group.mean_hours, group.p90_hours) == (1, 1, 10.0, 10.0)
    [finance] = report.approval_groups
    assert (finance.label, finance.decided, finance.waiting) == ("Finance approvers", 1, 1)
    total = report.approvals_total
    assert (total.decided, total.waiting, total.mean_hours, total.p90_hours) == (4, 1, 11.5, 30.0)


def test_editing_an_items_steps_after_ordering_does_not_regroup_past_waits(people, make_user):
    """Waits are grouped by the step as ordered: a group step later replaced by a manager step
    (and its group emptied of steps) still counts under the group, with the group's name."""
    cab = [people.person(name) for name in ("Cleo Cab", "Cyril Cab", "Carla Cab")]
    item = make_item(people, group_step(cab, required=2))
    request = order(item, people.requester)
    group = request.approvals.first().step_group
    kept = {(a.step_kind, a.step_group_id) for a in request.approvals.all()}
    assert kept == {(ApproverKind.GROUP, group.pk)}
    first, second, _third = request.approvals.order_by("pk")
    approval_decide(actor=first.approver, approval=first, decision=Decision.APPROVE)
    approval_decide(actor=second.approver, approval=second, decision=Decision.REJECT, comment="No budget")
    reader = make_user(Role.MANAGER)
    approval_steps_save(actor=reader, item=item, steps=[{"kind": ApproverKind.MANAGER, "name": "Manager"}])

    today = timezone.localdate()
    report = catalog_report(user=reader, start=today, end=today)
    assert [(row.key, row.decided, row.approved, row.rejected) for row in report.approval_kinds] == [
        (ApproverKind.GROUP, 2, 1, 1)
    ]
    assert [(row.label, row.decided) for row in report.approval_groups] == [(group.name, 2)]


def test_task_times_against_target_per_team(loaded):
    report = report_for(loaded.manager, now=DAY + timedelta(days=3))
    network, workplace = report.tasks
    assert (workplace.label, workplace.done, workplace.within_target, workplace.pct_within_target) == (
        "Workplace Support",
        2,
        2,
        100.0,
    )
    assert (workplace.mean_hours, workplace.p90_hours) == (4.0, 5.0)
    # The cancelled task is left out; the open one is overdue three days later.
    assert (network.done, network.within_target, network.pct_within_target) == (1, 0, 0.0)
    assert (network.open, network.overdue, network.mean_hours) == (1, 1, 12.0)
    total = report.tasks_total
    assert (total.done, total.within_target, total.pct_within_target, total.open) == (3, 2, 66.7, 1)
    assert (total.mean_hours, total.p90_hours) == (6.7, 12.0)


def test_the_period_chooses_the_orders_and_an_empty_period_says_so(loaded):
    earlier = report_for(
        loaded.manager, start=DAY.date() - timedelta(days=401), end=DAY.date() - timedelta(days=1)
    )
    assert [(row.label, row.requests) for row in earlier.items] == [("New laptop", 1)]
    assert earlier.tasks == [] and earlier.approvals_total.decided == 0
    empty = report_for(
        loaded.manager, start=DAY.date() + timedelta(days=100), end=DAY.date() + timedelta(days=101)
    )
    assert empty.is_empty and empty.items_total.requests == 0 and empty.items_total.pct_approved is None


def test_bad_periods_and_readers_are_refused_clearly(world, make_user):
    with pytest.raises(ServiceError, match="swap the dates") as refused:
        report_for(world.manager, start=DAY.date(), end=DAY.date() - timedelta(days=1))
    assert refused.value.field == "start"
    with pytest.raises(ServiceError, match="at most 3 years"):
        report_for(world.manager, end=DAY.date() + timedelta(days=4 * 365))
    with pytest.raises(NotAllowed):
        report_for(make_user(Role.AGENT))
    with pytest.raises(NotAllowed):
        report_for(world.requester)
    assert report_for(make_user(Role.TEAM_LEAD)).is_empty


def test_nearest_rank_percentile():
    assert nearest_rank([]) is None
    assert nearest_rank([5.0]) == 5.0
    assert nearest_rank([float(n) for n in range(1, 11)]) == 9.0
    assert nearest_rank([float(n) for n in range(1, 101)]) == 90.0


def test_percentiles_beyond_the_sample_cap_are_flagged(loaded, monkeypatch):
    monkeypatch.setattr("opsdesk.catalog.reports.MAX_SAMPLES", 2)
    report = report_for(loaded.manager)
    assert report.sampled
    assert MAX_SAMPLES > 2  # the real cap is untouched


def test_csv_tables_escape_formulas_and_end_with_the_totals(loaded):
    report = report_for(loaded.manager)
    rows = list(csv.reader(io.StringIO(report_to_csv(report, "items"))))
    assert rows[0][:3] == ["Item", "Requests", "Approved"]
    assert rows[1][0] == "New laptop"
    assert rows[2][0] == "'=Access to the finance share"
    assert rows[-1][:2] == ["Total", "5"]
    groups = list(csv.reader(io.StringIO(report_to_csv(report, "approval_groups"))))
    assert groups == [
        [
            "Approval group",
            "Decided",
            "Approved",
            "Rejected",
            "Waiting",
            "Mean wait (hours)",
            "P90 wait (hours)",
        ],
        ["Finance approvers", "1", "1", "0", "1", "10.0", "10.0"],
    ]
    with pytest.raises(ServiceError, match="The table is one of"):
        report_to_csv(report, "nope")


# --- the page -----------------------------------------------------------------------------------


def figures_url(**params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("catalog:reports") + (f"?{query}" if query else "")


CUSTOM = {"period": "custom", "start": "2025-03-01", "end": "2025-03-31"}


def test_the_page_shows_charts_tables_and_csv_links_to_managers(
    client, loaded, django_assert_max_num_queries
):
    client.force_login(loaded.manager)
    with django_assert_max_num_queries(8):
        response = client.get(figures_url(**CUSTOM))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("New laptop", "Finance approvers", "Workplace Support", "66.7 %", "catalog-report-data"):
        assert text in page
    assert 'data-catalog-chart="on_time"' in page
    download = client.get(figures_url(**CUSTOM, format="csv", table="tasks"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert 'filename="catalogue-tasks-2025-03-01-2025-03-31.csv"' in download["Content-Disposition"]
    assert download.content.decode().splitlines()[1].startswith("Network Operations,1,0,0.0,12.0")


def test_query_count_does_not_grow_with_orders(client, loaded, django_assert_max_num_queries):
    for _ in range(10):
        request = loaded.order(loaded.share, at=DAY, state=RequestState.FULFILLED, fulfilled_after_days=2)
        loaded.approval(request, loaded.approvers[1], asked=DAY, waited_hours=1)
        loaded.task(request, TeamFactory(), opened=DAY, hours=1)
    client.force_login(loaded.manager)
    with django_assert_max_num_queries(8):
        assert client.get(figures_url(**CUSTOM)).status_code == 200


def test_the_page_explains_an_empty_period_and_bad_filters(client, world):
    client.force_login(world.manager)
    response = client.get(figures_url())  # default: the last 90 days, nothing ordered
    assert response.status_code == 200
    assert "No orders in this period" in response.content.decode()
    bad = client.get(figures_url(period="custom", start="2025-03-31", end="2025-03-01"))
    assert bad.status_code == 400 and "swap the dates" in bad.content.decode()
    missing = client.get(figures_url(period="custom"))
    assert missing.status_code == 400 and "Give both dates" in missing.content.decode()
    unknown = client.get(figures_url(**CUSTOM, format="csv", table="nope"))
    assert unknown.status_code == 400 and "no table" in unknown.content.decode()
    assert client.get(figures_url(period="someday")).status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.REQUESTER, 403),
        (Role.AGENT, 403),
        (Role.SERVICE_OWNER, 403),
        (Role.TEAM_LEAD, 200),
        (Role.MANAGER, 200),
        (Role.AUDITOR, 200),
        (Role.ADMIN, 200),
    ],
)
def test_who_may_read_the_figures(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get(figures_url()).status_code == status
    assert client.get(figures_url(format="csv", table="items")).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(figures_url())
    assert response.status_code == 302 and "login" in response["Location"]
