"""The demo catalogue loads through the services, once, with orders in every state that the pages
and the figures then show."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.catalog.choices import ApprovalState, ApproverKind, RequestState, TaskState
from opsdesk.catalog.formspec import form_validate
from opsdesk.catalog.models import Approval, ApprovalStep, CatalogCategory, CatalogItem, CatalogRequest
from opsdesk.catalog.reports import catalog_report
from opsdesk.core.audit import acting
from opsdesk.tickets.choices import ResolutionCode, Status
from opsdesk.web.demo import catalog, people, portfolio

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    admin = people.load_admin()
    with acting(actor=admin):
        people.load_people(admin)
        portfolio.load_portfolio(admin)
        added = catalog.load_catalog(admin)
    return admin, added


def test_about_twenty_items_on_six_shelves_with_valid_forms_approvals_and_plans(demo):
    _admin, added = demo
    assert added == len(catalog.ITEMS) == CatalogItem.objects.count()
    assert 18 <= added <= 24
    assert CatalogCategory.objects.count() == 6
    assert all(item.category.items.count() >= 2 for item in CatalogItem.objects.all())
    conditional = 0
    for item in CatalogItem.objects.all():
        assert form_validate(item.form) == item.form
        conditional += any("show_if" in field for field in item.form)
        assert item.task_templates.exists()
    assert conditional >= 8
    kinds = Counter(ApprovalStep.objects.values_list("kind", flat=True))
    assert set(kinds) == {ApproverKind.MANAGER, ApproverKind.SERVICE_OWNER, ApproverKind.GROUP}
    assert ApprovalStep.objects.filter(
        kind=ApproverKind.GROUP, required=2, group__members__isnull=False
    ).exists()
    sequences = [item for item in CatalogItem.objects.all() if item.approval_steps.count() >= 2]
    assert len(sequences) >= 4
    assert CatalogItem.objects.filter(approval_steps=None).count() >= 4
    stages = Counter(CatalogItem.objects.values_list("slug", "task_templates__stage"))
    assert any(count >= 2 for count in stages.values())  # parallel tasks in a stage
    assert any(stage == 2 for (_slug, stage) in stages)  # a second, sequential stage
    assert User.objects.get(username="requester").manager.username == "chen"


def test_orders_in_every_state_through_the_services(demo):
    states = Counter(CatalogRequest.objects.values_list("state", flat=True))
    assert states[RequestState.AWAITING_APPROVAL] == 2
    assert states[RequestState.IN_FULFILMENT] == 3
    assert states[RequestState.FULFILLED] == 3
    assert states[RequestState.REJECTED] == 1
    rejected = CatalogRequest.objects.get(state=RequestState.REJECTED)
    assert "refitted" in rejected.closed_reason
    assert rejected.ticket.resolution_code == ResolutionCode.REJECTED
    for fulfilled in CatalogRequest.objects.filter(state=RequestState.FULFILLED):
        assert fulfilled.ticket.status == Status.RESOLVED
        assert not fulfilled.tasks.exclude(state=TaskState.DONE).exists()
    share = CatalogRequest.objects.get(item__slug="finance-share-access")
    assert Counter(share.approvals.values_list("state", flat=True)) == {
        ApprovalState.APPROVED: 1,
        ApprovalState.PENDING: 2,
    }
    on_behalf = CatalogRequest.objects.get(item__slug="monitor-and-dock")
    assert (on_behalf.ordered_by.username, on_behalf.requested_for.username) == ("agent", "requester")
    assert Approval.objects.filter(approver__username="chen", state=ApprovalState.PENDING).count() == 1


def test_loading_again_adds_nothing(demo):
    admin, _added = demo
    requests = CatalogRequest.objects.count()
    with acting(actor=admin):
        assert catalog.load_catalog(admin) == 0
    assert CatalogRequest.objects.count() == requests


def test_the_demo_figures_have_content(demo, client):
    manager = User.objects.get(username="manager")
    today = timezone.localdate()
    report = catalog_report(user=manager, start=today - timedelta(days=30), end=today)
    assert report.items_total.requests == 9
    assert report.items_total.fulfilled == 3 and report.items_total.pct_on_time is not None
    assert report.approvals_total.decided >= 8 and report.approvals_total.mean_hours > 0
    assert {row.label for row in report.approval_kinds} == {
        "The requester's manager",
        "The service owner",
        "A named approval group",
    }
    assert {row.label for row in report.approval_groups} == {"Finance approvers", "Security board"}
    assert len(report.tasks) >= 3
    client.force_login(manager)
    page = client.get(reverse("catalog:reports"))
    assert page.status_code == 200 and "Security board" in page.content.decode()
