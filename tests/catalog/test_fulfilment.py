"""Fulfilment: the plan's tasks stage by stage, due times on the service's hours, who works
a task, the request resolving (and the requester asked to rate it) when every task is done,
and a request kept consistent when an agent moves its ticket directly."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, connections

from opsdesk.accounts.choices import Role
from opsdesk.catalog import receivers
from opsdesk.catalog.choices import ApproverKind, Decision, RequestState, TaskState
from opsdesk.catalog.services.approvals import approval_decide
from opsdesk.catalog.services.fulfilment import task_assign, task_cancel, task_complete, task_start
from opsdesk.catalog.services.ordering import request_order
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.tickets.choices import EventKind, ResolutionCode, Status
from opsdesk.tickets.models import Survey
from opsdesk.tickets.services import ticket_transition
from tests.accounts.factories import OrganizationFactory
from tests.catalog.factories import ApprovalStepFactory, CatalogItemFactory, TaskTemplateFactory, team_with
from tests.portfolio.factories import CalendarFactory

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True)
def _receivers():
    receivers.connect()


@pytest.fixture
def requester(make_user):
    return make_user(organization=OrganizationFactory())


@pytest.fixture
def hardware_agent(make_user):
    return make_user(Role.AGENT, first_name="Hal", last_name="Ware")


@pytest.fixture
def access_agent(make_user):
    return make_user(Role.AGENT, first_name="Ace", last_name="Cess")


@pytest.fixture
def laptop(hardware_agent, access_agent):
    """Two tasks in parallel in two teams, then a hand-over."""
    hardware, access = team_with(hardware_agent), team_with(access_agent)
    item = CatalogItemFactory(name="New laptop", fulfilment_team=hardware)
    TaskTemplateFactory(item=item, stage=1, name="Prepare the laptop", team=hardware, target_minutes=240)
    TaskTemplateFactory(item=item, stage=1, name="Create the accounts", team=access, target_minutes=60)
    TaskTemplateFactory(item=item, stage=2, name="Hand it over", team=hardware, target_minutes=120)
    return item


def order(requester, item):
    return request_order(actor=requester, item=item, answers={})


def task_named(request, name):
    return request.tasks.get(name=name)


def test_the_first_stage_opens_in_parallel_and_the_ticket_goes_to_the_fulfilment_team(requester, laptop):
    request = order(requester, laptop)
    tasks = {task.name: task for task in request.tasks.all()}
    assert tasks["Prepare the laptop"].state == TaskState.OPEN
    assert tasks["Create the accounts"].state == TaskState.OPEN
    assert tasks["Hand it over"].state == TaskState.WAITING
    assert tasks["Hand it over"].due_at is None
    assert all(re.fullmatch(r"TASK\d{7}", task.number) for task in tasks.values())
    assert len({task.number for task in tasks.values()}) == 3
    ticket = request.ticket
    assert ticket.assigned_team == laptop.fulfilment_team
    assert ticket.status == Status.IN_PROGRESS
    opened = tasks["Prepare the laptop"].opened_at
    assert (
        tasks["Prepare the laptop"].due_at - opened
    ).total_seconds() == 240 * 60  # no calendar: wall clock


def test_without_a_fulfilment_team_the_ticket_goes_to_the_first_tasks_team(requester, hardware_agent):
    team = team_with(hardware_agent)
    item = CatalogItemFactory()
    TaskTemplateFactory(item=item, team=team)
    assert order(requester, item).ticket.assigned_team == team


def test_due_times_follow_the_service_hours(requester, hardware_agent):
    calendar = CalendarFactory(time_zone="UTC", working_hours=WEEKDAYS_9_TO_17)
    item = CatalogItemFactory(offering__service__service_hours=calendar)
    TaskTemplateFactory(item=item, team=team_with(hardware_agent), target_minutes=120)
    # Friday 16:00 UTC: one hour on Friday, one on Monday morning.
    with time_machine.travel(datetime(2025, 3, 7, 16, 0, tzinfo=UTC), tick=False):
        request = order(requester, item)
    assert request.tasks.get().due_at == datetime(2025, 3, 10, 10, 0, tzinfo=UTC)


def test_parallel_tasks_then_the_next_stage_then_resolved_and_rated(
    requester, laptop, hardware_agent, access_agent
):
    request = order(requester, laptop)
    prepare = task_named(request, "Prepare the laptop")
    accounts = task_named(request, "Create the accounts")
    task_start(actor=hardware_agent, task=prepare)
    assert prepare.state == TaskState.IN_PROGRESS and prepare.assignee_id == hardware_agent.pk
    task_complete(actor=hardware_agent, task=prepare, note="Imaged and labelled")
    # The other task of stage 1 is still open: stage 2 waits.
    assert task_named(request, "Hand it over").state == TaskState.WAITING
    task_complete(actor=access_agent, task=accounts)
    hand_over = task_named(request, "Hand it over")
    assert hand_over.state == TaskState.OPEN and hand_over.due_at is not None
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
    task_complete(actor=hardware_agent, task=hand_over)
    request.refresh_from_db()
    ticket = request.ticket
    ticket.refresh_from_db()
    assert request.state == RequestState.FULFILLED and request.fulfilled_at is not None
    assert ticket.status == Status.RESOLVED
    assert ticket.resolution_code == ResolutionCode.FULFILLED
    assert Survey.objects.filter(ticket=ticket).exists()  # the requester is asked to rate it
    summaries = [event.data.get("summary", "") for event in ticket.events.filter(kind=EventKind.TASK)]
    assert any("done by" in summary for summary in summaries)
    assert any("Stage 2 opened" in summary for summary in summaries)


def test_a_cancelled_task_lets_the_plan_go_on(requester, laptop, hardware_agent, access_agent):
    request = order(requester, laptop)
    task_complete(actor=hardware_agent, task=task_named(request, "Prepare the laptop"))
    task_cancel(
        actor=access_agent, task=task_named(request, "Create the accounts"), reason="Has accounts already"
    )
    assert task_named(request, "Hand it over").state == TaskState.OPEN


def test_a_task_needs_a_reason_to_be_cancelled(requester, laptop, access_agent):
    request = order(requester, laptop)
    with pytest.raises(ServiceError) as refused:
        task_cancel(actor=access_agent, task=task_named(request, "Create the accounts"), reason="  ")
    assert refused.value.field == "reason"


def test_when_every_task_is_cancelled_the_desk_decides(requester, hardware_agent):
    item = CatalogItemFactory()
    TaskTemplateFactory(item=item, team=team_with(hardware_agent))
    request = order(requester, item)
    task_cancel(actor=hardware_agent, task=request.tasks.get(), reason="Out of stock")
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
    assert request.ticket.status == Status.IN_PROGRESS


# --- who works a task -----------------------------------------------------------------------------
def test_only_members_of_the_team_work_its_tasks(make_user, requester, laptop, access_agent):
    request = order(requester, laptop)
    prepare = task_named(request, "Prepare the laptop")
    for outsider in (access_agent, make_user(Role.AGENT)):
        with pytest.raises(NotAllowed) as refused:
            task_start(actor=outsider, task=prepare)
        assert refused.value.code == "not_in_team"
    with pytest.raises(NotAllowed):
        task_complete(actor=requester, task=prepare)
    with pytest.raises(NotAllowed):
        task_complete(actor=make_user(Role.AUDITOR), task=prepare)
    prepare.refresh_from_db()
    assert prepare.state == TaskState.OPEN


def test_a_manager_may_complete_any_task(make_user, requester, laptop):
    request = order(requester, laptop)
    task = task_complete(actor=make_user(Role.MANAGER), task=task_named(request, "Create the accounts"))
    assert task.state == TaskState.DONE


def test_tasks_are_assigned_to_members_of_their_team_only(
    make_user, requester, laptop, hardware_agent, access_agent
):
    request = order(requester, laptop)
    prepare = task_named(request, "Prepare the laptop")
    with pytest.raises(ServiceError) as refused:
        task_assign(actor=hardware_agent, task=prepare, assignee=access_agent)
    assert refused.value.code == "not_in_team" and refused.value.field == "assignee"
    colleague = make_user(Role.AGENT)
    prepare.team.memberships.create(user=colleague)
    task_assign(actor=hardware_agent, task=prepare, assignee=colleague)
    prepare.refresh_from_db()
    assert prepare.assignee == colleague
    task_assign(actor=hardware_agent, task=prepare, assignee=None)
    prepare.refresh_from_db()
    assert prepare.assignee is None


def test_a_waiting_task_does_not_start_and_a_done_one_does_not_finish_twice(
    requester, laptop, hardware_agent
):
    request = order(requester, laptop)
    with pytest.raises(ServiceError) as refused:
        task_start(actor=hardware_agent, task=task_named(request, "Hand it over"))
    assert refused.value.code == "invalid_task_state"
    prepare = task_named(request, "Prepare the laptop")
    task_complete(actor=hardware_agent, task=prepare)
    with pytest.raises(ServiceError):
        task_complete(actor=hardware_agent, task=prepare)


def test_a_stale_version_is_refused(requester, laptop, hardware_agent):
    request = order(requester, laptop)
    prepare = task_named(request, "Prepare the laptop")
    seen = prepare.version
    task_assign(actor=hardware_agent, task=prepare, assignee=hardware_agent)
    with pytest.raises(ConcurrencyConflict):
        task_complete(
            actor=hardware_agent, task=task_named(request, "Prepare the laptop"), expected_version=seen
        )
    assert task_named(request, "Prepare the laptop").state == TaskState.OPEN
    done = task_complete(actor=hardware_agent, task=prepare, expected_version=prepare.version)
    assert done.state == TaskState.DONE


# --- the ticket moved directly ----------------------------------------------------------------------
def test_an_agent_cancelling_the_ticket_cancels_the_request_and_its_tasks(requester, laptop, hardware_agent):
    request = order(requester, laptop)
    ticket_transition(actor=hardware_agent, ticket=request.ticket, to=Status.CANCELLED, note="Duplicate")
    request.refresh_from_db()
    assert request.state == RequestState.CANCELLED
    assert set(request.tasks.values_list("state", flat=True)) == {TaskState.CANCELLED}


def test_an_agent_resolving_the_ticket_early_settles_the_request(requester, laptop, hardware_agent):
    request = order(requester, laptop)
    ticket_transition(
        actor=hardware_agent,
        ticket=request.ticket,
        to=Status.RESOLVED,
        resolution_code=ResolutionCode.FULFILLED,
        resolution_notes="Handed over a spare one",
    )
    request.refresh_from_db()
    assert request.state == RequestState.FULFILLED
    assert set(request.tasks.values_list("state", flat=True)) == {TaskState.CANCELLED}
    lines = [e.data.get("summary", "") for e in request.ticket.events.filter(kind=EventKind.TASK)]
    assert any("Open fulfilment tasks cancelled" in line for line in lines)


def test_the_catalogue_resolving_its_own_ticket_is_not_settled_twice(requester, hardware_agent):
    item = CatalogItemFactory()
    TaskTemplateFactory(item=item, team=team_with(hardware_agent))
    request = order(requester, item)
    task_complete(actor=hardware_agent, task=request.tasks.get(), note="Done")
    request.refresh_from_db()
    assert request.state == RequestState.FULFILLED
    assert request.tasks.get().state == TaskState.DONE
    assert not any(
        "settled on its ticket" in e.data.get("summary", "")
        for e in request.ticket.events.filter(kind=EventKind.TASK)
    )


# --- after approval ---------------------------------------------------------------------------------
def test_fulfilment_starts_when_the_manager_approves(make_user, hardware_agent):
    org = OrganizationFactory()
    manager = make_user(organization=org)
    person = make_user(organization=org, manager=manager)
    item = CatalogItemFactory()
    ApprovalStepFactory(item=item, position=1, kind=ApproverKind.MANAGER)
    TaskTemplateFactory(item=item, team=team_with(hardware_agent), name="Prepare")
    request = order(person, item)
    assert not request.tasks.exists() and request.ticket.status == Status.NEW
    approval_decide(
        actor=manager, approval=request.approvals.get(), decision=Decision.APPROVE, comment="Fine"
    )
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT and request.approved_at is not None
    assert request.tasks.get().state == TaskState.OPEN
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.IN_PROGRESS


# --- two agents at once -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_agents_finishing_the_last_two_parallel_tasks_open_the_next_stage_once(
    requester, laptop, hardware_agent, access_agent
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write: no two completions run at once")
    receivers.connect()
    request = order(requester, laptop)
    pairs = [
        (hardware_agent, task_named(request, "Prepare the laptop")),
        (access_agent, task_named(request, "Create the accounts")),
    ]
    barrier = threading.Barrier(len(pairs))
    outcomes: list[str] = []

    def run(agent, task) -> None:
        try:
            barrier.wait()
            task_complete(actor=agent, task=task)
            outcomes.append("done")
        except Exception as error:  # the test reports whatever went wrong
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["done", "done"]
    hand_over = task_named(request, "Hand it over")
    assert hand_over.state == TaskState.OPEN
    lines = [e.data.get("summary", "") for e in request.ticket.events.filter(kind=EventKind.TASK)]
    assert sum("Stage 2 opened" in line for line in lines) == 1
