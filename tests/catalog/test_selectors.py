"""Reads of the catalogue: what a person may browse, where a request stands, an approver's
inbox (with delegations) and the teams' task queues, each in a bounded number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, RequestState, TaskState
from opsdesk.catalog.models import ApprovalDelegation
from opsdesk.catalog.selectors import (
    approvals_inbox,
    categories_for,
    items_for,
    my_requests,
    request_progress,
    tasks_for_teams,
)
from opsdesk.catalog.services.approvals import approval_decide
from opsdesk.catalog.services.fulfilment import task_complete
from opsdesk.catalog.services.ordering import request_order
from tests.accounts.factories import OrganizationFactory
from tests.catalog.factories import (
    ApprovalGroupFactory,
    ApprovalStepFactory,
    CatalogCategoryFactory,
    CatalogItemFactory,
    TaskTemplateFactory,
    team_with,
)

pytestmark = pytest.mark.django_db

ONE_QUERY = 1


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def requester(make_user, org):
    return make_user(organization=org)


# --- browsing ---------------------------------------------------------------------------------------
def test_items_for_lists_what_the_person_may_order(make_user, requester, org):
    hardware = CatalogCategoryFactory(name="Hardware", slug="hardware")
    laptop = CatalogItemFactory(name="New laptop", category=hardware, summary="A work laptop")
    ours = CatalogItemFactory(name="Finance share", description="Access to the **finance** share")
    ours.organizations.set([org])
    theirs = CatalogItemFactory(name="Their VPN token")
    theirs.organizations.set([OrganizationFactory()])
    agents_only = CatalogItemFactory(name="Admin console", roles=[Role.AGENT])
    retired = CatalogItemFactory(name="Fax machine", is_active=False)

    assert set(items_for(user=requester)) == {laptop, ours}
    assert set(items_for(user=make_user(Role.AGENT))) == {laptop, ours, theirs, agents_only}
    assert retired not in items_for(user=make_user(Role.MANAGER))
    assert list(items_for(user=requester, category="hardware")) == [laptop]
    assert list(items_for(user=requester, category=hardware)) == [laptop]
    assert list(items_for(user=requester, query="FINANCE")) == [ours]
    assert list(items_for(user=requester, query="work laptop")) == [laptop]
    assert list(items_for(user=requester, query="nothing like it")) == []
    assert list(items_for(user=requester, query="\x00" + "x" * 5000)) == []


def test_items_for_is_one_query_with_offering_service_and_category(requester, django_assert_max_num_queries):
    for _ in range(5):
        CatalogItemFactory()
    with django_assert_max_num_queries(ONE_QUERY):
        names = [
            (item.name, item.offering.service.name, item.category.name) for item in items_for(user=requester)
        ]
    assert len(names) == 5


def test_categories_for_counts_the_visible_items_per_shelf(requester):
    hardware, access = CatalogCategoryFactory(position=1), CatalogCategoryFactory(position=2)
    CatalogItemFactory(category=hardware)
    CatalogItemFactory(category=hardware)
    CatalogItemFactory(category=access, is_active=False)
    assert categories_for(user=requester) == [(hardware, 2)]


# --- progress ---------------------------------------------------------------------------------------
def test_request_progress_shows_the_steps_and_stages(make_user, org, django_assert_max_num_queries):
    manager = make_user(organization=org, first_name="Mia", last_name="Manager")
    person = make_user(organization=org, manager=manager)
    finance = ApprovalGroupFactory(members=[make_user(), make_user(), make_user()])
    agent = make_user(Role.AGENT)
    team = team_with(agent)
    item = CatalogItemFactory()
    ApprovalStepFactory(item=item, position=1, kind=ApproverKind.MANAGER, name="Manager")
    ApprovalStepFactory(
        item=item, position=2, kind=ApproverKind.GROUP, group=finance, required=2, name="Finance"
    )
    TaskTemplateFactory(item=item, stage=1, team=team, name="Order it")
    TaskTemplateFactory(item=item, stage=2, team=team, name="Deliver it")
    request = request_order(actor=person, item=item, answers={})

    with django_assert_max_num_queries(2):
        progress = request_progress(request=request)
    assert progress["state"] == RequestState.AWAITING_APPROVAL
    assert progress["expected_at"] == request.expected_at
    first, second = progress["steps"]
    assert (first["position"], first["name"], first["state"], first["required"]) == (
        1,
        "Manager",
        ApprovalState.PENDING,
        1,
    )
    assert first["approvals"][0]["approver"] == {"id": manager.pk, "name": "Mia Manager"}
    assert second["state"] == ApprovalState.WAITING and len(second["approvals"]) == 3
    assert progress["stages"] == []  # no tasks until approved
    assert progress["percent"] == 0


def test_request_progress_counts_finished_tasks(make_user, requester):
    agent = make_user(Role.AGENT)
    team = team_with(agent)
    item = CatalogItemFactory()
    TaskTemplateFactory(item=item, stage=1, team=team, name="Order it")
    TaskTemplateFactory(item=item, stage=2, team=team, name="Deliver it")
    request = request_order(actor=requester, item=item, answers={})
    task_complete(actor=agent, task=request.tasks.get(name="Order it"))
    request.refresh_from_db()
    progress = request_progress(request=request)
    assert [stage["stage"] for stage in progress["stages"]] == [1, 2]
    assert progress["stages"][0]["state"] == TaskState.DONE
    assert progress["stages"][1]["tasks"][0]["state"] == TaskState.OPEN
    assert progress["stages"][1]["tasks"][0]["team"] == team.name
    assert (progress["tasks_done"], progress["tasks_total"], progress["percent"]) == (1, 2, 50)
    task_complete(actor=agent, task=request.tasks.get(name="Deliver it"))
    request.refresh_from_db()
    assert request_progress(request=request)["percent"] == 100


def test_my_requests_are_the_ones_i_ordered_or_that_are_for_me(make_user, requester, org):
    item = CatalogItemFactory()
    colleague = make_user(organization=org)
    mine = request_order(actor=requester, item=item, answers={})
    for_me = request_order(actor=colleague, item=item, answers={}, requested_for=requester)
    request_order(actor=colleague, item=item, answers={})
    assert set(my_requests(user=requester)) == {mine, for_me}


# --- the approval inbox -----------------------------------------------------------------------------
def test_the_inbox_holds_my_pending_approvals_and_those_i_stand_in_for(
    make_user, org, django_assert_max_num_queries
):
    manager = make_user(organization=org)
    stand_in = make_user(organization=org)
    item = CatalogItemFactory()
    ApprovalStepFactory(item=item, position=1, kind=ApproverKind.MANAGER)
    people = [make_user(organization=org, manager=manager) for _ in range(3)]
    requests = [request_order(actor=person, item=item, answers={}) for person in people]

    with django_assert_max_num_queries(ONE_QUERY):
        inbox = [
            (a.request.ticket.number, a.request.item.name, str(a.request.requested_for))
            for a in approvals_inbox(user=manager)
        ]
    assert len(inbox) == 3
    assert list(approvals_inbox(user=stand_in)) == []

    # The manager goes away today: the stand-in sees them (whether or not they were moved yet).
    today = timezone.localdate()
    ApprovalDelegation.objects.create(
        approver=manager, delegate=stand_in, starts_on=today, ends_on=today + datetime.timedelta(days=3)
    )
    assert {a.request for a in approvals_inbox(user=stand_in)} == set(requests)
    # A decided approval leaves the inbox.
    approval_decide(actor=manager, approval=requests[0].approvals.get(), decision=Decision.APPROVE)
    assert {a.request for a in approvals_inbox(user=manager)} == set(requests[1:])


# --- the team queues --------------------------------------------------------------------------------
def test_tasks_for_teams_are_my_teams_open_tasks_soonest_due_first(
    make_user, requester, django_assert_max_num_queries
):
    agent, other_agent = make_user(Role.AGENT), make_user(Role.AGENT)
    mine, theirs = team_with(agent), team_with(other_agent)
    item = CatalogItemFactory()
    TaskTemplateFactory(item=item, team=mine, name="Slow", target_minutes=600)
    TaskTemplateFactory(item=item, team=mine, name="Quick", target_minutes=30)
    TaskTemplateFactory(item=item, team=mine, name="Later", stage=2)
    TaskTemplateFactory(item=item, team=theirs, name="Theirs")
    request = request_order(actor=requester, item=item, answers={})

    # The agent's teams, then the tasks with everything the queue shows.
    with django_assert_max_num_queries(2):
        queue = [
            (task.name, task.team.name, task.request.ticket.number) for task in tasks_for_teams(user=agent)
        ]
    assert [name for name, _, _ in queue] == ["Quick", "Slow"]
    assert [t.name for t in tasks_for_teams(user=agent, team=theirs)] == ["Theirs"]
    assert [t.name for t in tasks_for_teams(user=agent, team=theirs.pk)] == ["Theirs"]
    waiting = tasks_for_teams(user=agent, states=[TaskState.WAITING])
    assert [t.name for t in waiting] == ["Later"]
    assert list(tasks_for_teams(user=requester)) == []  # no teams
    task_complete(actor=agent, task=request.tasks.get(name="Quick"))
    assert [t.name for t in tasks_for_teams(user=agent)] == ["Slow"]
