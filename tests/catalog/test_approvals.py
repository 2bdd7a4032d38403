"""The approval engine, through its services on the real database: sequential and parallel
N-of-M steps, rejection, delegation, reminders and escalation, concurrent decisions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, RequestState, TaskState
from opsdesk.catalog.models import Approval, ApprovalDelegation, CatalogRequest
from opsdesk.catalog.services.approval_sweep import approvals_sweep
from opsdesk.catalog.services.approvals import approval_decide, approvers_resolve, request_reject
from opsdesk.catalog.services.delegations import delegation_delete, delegation_save
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets.choices import EventKind, ResolutionCode, Status
from opsdesk.tickets.models import Survey, Ticket
from tests.catalog.approval_factories import group_step, make_item, manager_step, order, people, person_step

__all__ = ["people"]  # the fixture, used by name

pytestmark = pytest.mark.django_db


def pending(request: CatalogRequest) -> list[Approval]:
    return list(request.approvals.filter(state=ApprovalState.PENDING).order_by("pk"))


def states(request: CatalogRequest) -> list[tuple[int, str, str]]:
    return [
        (a.step, str(a.approver), a.state)
        for a in request.approvals.select_related("approver").order_by("pk")
    ]


def timeline(request: CatalogRequest, kind=EventKind.APPROVAL) -> list[str]:
    return [e.data.get("summary", e.body) for e in request.ticket.events.filter(kind=kind).order_by("pk")]


def decide(approval: Approval, decision=Decision.APPROVE, comment="", actor=None) -> Approval:
    return approval_decide(
        actor=actor or approval.approver, approval=approval, decision=decision, comment=comment
    )


def test_two_sequential_levels_then_fulfilment(people):
    finance = people.person("Fay Finance")
    item = make_item(people, manager_step(), person_step(finance))
    request = order(item, people.requester)

    assert request.state == RequestState.AWAITING_APPROVAL
    assert states(request) == [
        (1, "Mia Manager", ApprovalState.PENDING),
        (2, "Fay Finance", ApprovalState.WAITING),
    ]
    first = pending(request)[0]
    assert first.requested_at and first.remind_at - first.requested_at == timedelta(hours=24)
    assert first.escalate_at - first.requested_at == timedelta(hours=72)

    decide(first, comment="Fine by me")
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_APPROVAL
    assert states(request)[1] == (2, "Fay Finance", ApprovalState.PENDING)

    decide(pending(request)[0])
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
    assert request.approved_at is not None
    assert [t.state for t in request.tasks.all()] == [TaskState.OPEN]
    lines = timeline(request)
    assert "Approved by Mia Manager (step 1 of 2: Manager)" in lines
    assert "Approved by Fay Finance (step 2 of 2: Finance)" in lines
    assert request.ticket.events.get(kind=EventKind.APPROVAL, body="Fine by me")


def test_parallel_two_of_three_skips_the_third(people):
    cab = [people.person(f"Cab Member{n}") for n in range(3)]
    request = order(make_item(people, group_step(cab, required=2)), people.requester)
    first, second, third = pending(request)

    decide(first)
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_APPROVAL
    decide(second)

    request.refresh_from_db()
    third.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
    assert third.state == ApprovalState.SKIPPED
    with pytest.raises(ServiceError) as error:
        decide(third)
    assert error.value.code == "already_decided"


def test_two_of_three_is_rejected_once_it_cannot_reach_two(people):
    cab = [people.person(f"Cab Member{n}") for n in range(3)]
    request = order(make_item(people, group_step(cab, required=2)), people.requester)
    first, second, third = pending(request)

    decide(first, Decision.REJECT, "Too expensive")
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_APPROVAL  # two could still approve

    decide(second, Decision.REJECT, "Agreed, no budget")
    request.refresh_from_db()
    third.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert third.state == ApprovalState.SKIPPED
    assert "no budget" in request.closed_reason
    ticket = Ticket.objects.get(pk=request.ticket_id)
    assert ticket.status == Status.CLOSED
    assert ticket.resolution_code == ResolutionCode.REJECTED


def test_a_single_rejection_closes_the_request_with_the_reason(people):
    finance = people.person("Fay Finance")
    request = order(make_item(people, manager_step(), person_step(finance)), people.requester)

    decide(pending(request)[0], Decision.REJECT, "You got one last month")

    request.refresh_from_db()
    ticket = Ticket.objects.get(pk=request.ticket_id)
    assert request.state == RequestState.REJECTED
    assert request.closed_reason == "Rejected by Mia Manager at step 1 of 2 (Manager): You got one last month"
    assert (ticket.status, ticket.resolution_code) == (Status.CLOSED, ResolutionCode.REJECTED)
    assert ticket.resolution_notes == request.closed_reason
    assert states(request)[1][2] == ApprovalState.SKIPPED  # the later step never opens
    assert not request.tasks.exists()
    assert "Rejected by Mia Manager (step 1 of 2: Manager)" in timeline(request)
    # Nothing was delivered, so the requester is not asked to rate it.
    assert not Survey.objects.filter(ticket=ticket).exists()


def test_only_the_approver_decides_and_only_once(people):
    request = order(make_item(people, manager_step()), people.requester)
    approval = pending(request)[0]
    with pytest.raises(NotAllowed):
        decide(approval, actor=people.requester)
    with pytest.raises(ServiceError) as error:
        decide(approval, decision="maybe")
    assert error.value.field == "decision"
    decide(approval)
    with pytest.raises(ServiceError) as error:
        decide(approval, Decision.REJECT)
    assert error.value.code == "already_decided"
    assert "already approved by Mia Manager" in error.value.message


def test_a_stale_version_is_refused(people):
    request = order(make_item(people, manager_step()), people.requester)
    approval = pending(request)[0]
    with pytest.raises(ServiceError) as error:
        approval_decide(
            actor=people.manager,
            approval=approval,
            decision=Decision.APPROVE,
            expected_version=approval.version - 1,
        )
    assert error.value.code == "stale_version"
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING


def test_the_requester_never_approves_their_own_request(people):
    colleague = people.person("Carl Colleague")
    item = make_item(people, group_step([people.requester, colleague], required=1))
    request = order(item, people.requester)
    assert [str(a.approver) for a in request.approvals.all()] == ["Carl Colleague"]

    two_needed = make_item(people, group_step([people.requester, colleague], required=2), name="Server")
    with pytest.raises(ServiceError) as error:
        order(two_needed, people.requester)
    assert error.value.code == "approver_missing"
    assert "needs 2 approvals, but only 1 person" in error.value.message
    assert not CatalogRequest.objects.filter(item=two_needed).exists()


def test_a_manager_step_without_a_manager_refuses_the_order_before_writing(people):
    loner = people.person("Lonny Loner")
    item = make_item(people, manager_step())
    tickets_before = Ticket.objects.count()
    with pytest.raises(ServiceError) as error:
        order(item, loner)
    assert "no manager is recorded for Lonny Loner" in error.value.message
    assert Ticket.objects.count() == tickets_before


def test_delegation_at_start_gives_the_approval_to_the_delegate(people):
    deputy = people.person("Dee Deputy")
    today = timezone.localdate()
    delegation_save(
        actor=people.manager,
        data={
            "delegate": deputy.pk,
            "starts_on": today,
            "ends_on": today + timedelta(days=3),
            "reason": "Holiday",
        },
    )
    item = make_item(people, manager_step())
    assert approvers_resolve(item=item, requested_for=people.requester, on=today) == [
        [(deputy, people.manager)]
    ]
    assert approvers_resolve(item=item, requested_for=people.requester, on=today + timedelta(days=4)) == [
        [(people.manager, None)]
    ]

    request = order(item, people.requester)
    approval = pending(request)[0]
    assert (approval.approver, approval.delegated_from) == (deputy, people.manager)
    with pytest.raises(NotAllowed) as error:
        decide(approval, actor=people.manager)
    assert "Dee Deputy decides this approval while you are away" in error.value.message
    decide(approval, actor=deputy)
    assert "Approved by Dee Deputy for Mia Manager (step 1 of 1: Manager)" in timeline(request)


def test_a_delegation_saved_later_moves_pending_approvals_and_back_when_deleted(people):
    deputy = people.person("Dee Deputy")
    request = order(make_item(people, manager_step()), people.requester)
    approval = pending(request)[0]
    assert approval.approver == people.manager

    today = timezone.localdate()
    delegation = delegation_save(
        actor=people.manager, data={"delegate": deputy.pk, "starts_on": today, "ends_on": today}
    )
    approval.refresh_from_db()
    assert (approval.approver, approval.delegated_from) == (deputy, people.manager)

    delegation_delete(actor=people.manager, delegation=delegation)
    approval.refresh_from_db()
    assert (approval.approver, approval.delegated_from) == (people.manager, None)


def test_a_future_delegation_is_handed_over_by_the_sweep_on_its_first_day(people):
    deputy = people.person("Dee Deputy")
    request = order(make_item(people, manager_step()), people.requester)
    tomorrow = timezone.localdate() + timedelta(days=1)
    delegation_save(
        actor=people.manager, data={"delegate": deputy, "starts_on": tomorrow, "ends_on": tomorrow}
    )
    assert pending(request)[0].approver == people.manager
    assert approvals_sweep()["delegated"] == 0

    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert approvals_sweep()["delegated"] == 1
        assert pending(request)[0].approver == deputy
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        assert approvals_sweep()["delegated"] == 1  # the period ended: back to the approver
        assert pending(request)[0].approver == people.manager


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"delegate": "self", "starts_on": "today", "ends_on": "today"}, "delegate", "nobody stands in"),
        ({"delegate": "deputy", "starts_on": "today", "ends_on": "yesterday"}, "ends_on", "on or after"),
        (
            {"delegate": "deputy", "starts_on": "2020-01-01", "ends_on": "2020-01-02"},
            "ends_on",
            "over already",
        ),
        ({"delegate": "deputy", "starts_on": "31/12/2030", "ends_on": "today"}, "starts_on", "YYYY-MM-DD"),
        ({"delegate": 999999, "starts_on": "today", "ends_on": "today"}, "delegate", "active person"),
    ],
)
def test_delegation_bad_input(people, data, field, message):
    deputy = people.person("Dee Deputy")
    today = timezone.localdate()
    names = {
        "self": people.manager.pk,
        "deputy": deputy.pk,
        "today": today,
        "yesterday": today - timedelta(days=1),
    }
    data = {key: names.get(value, value) if isinstance(value, str) else value for key, value in data.items()}
    with pytest.raises(ServiceError) as error:
        delegation_save(actor=people.manager, data=data)
    assert message in " ".join(error.value.errors[field])
    assert not ApprovalDelegation.objects.exists()


def test_overlapping_and_foreign_delegations_are_refused(people):
    deputy, other = people.person("Dee Deputy"), people.person("Otto Other")
    today = timezone.localdate()
    delegation_save(
        actor=people.manager,
        data={"delegate": deputy, "starts_on": today, "ends_on": today + timedelta(days=5)},
    )
    with pytest.raises(ServiceError) as error:
        delegation_save(
            actor=people.manager,
            data={
                "delegate": other,
                "starts_on": today + timedelta(days=5),
                "ends_on": today + timedelta(days=9),
            },
        )
    assert "already has Dee Deputy standing in" in error.value.errors["starts_on"][0]
    with pytest.raises(ServiceError) as error:
        delegation_save(actor=deputy, data={"delegate": people.manager, "starts_on": today, "ends_on": today})
    assert "has handed their approvals to Dee Deputy" in error.value.errors["delegate"][0]
    with pytest.raises(NotAllowed):
        delegation_save(
            actor=other,
            data={"approver": people.director, "delegate": other, "starts_on": today, "ends_on": today},
        )
    assert ApprovalDelegation.objects.count() == 1


def test_a_reminder_goes_once(people):
    request = order(make_item(people, manager_step(remind_after_hours=4)), people.requester)
    approval = pending(request)[0]
    assert approvals_sweep()["reminded"] == 0
    with time_machine.travel(approval.remind_at + timedelta(minutes=1), tick=False):
        assert approvals_sweep()["reminded"] == 1
        assert approvals_sweep()["reminded"] == 0
    approval.refresh_from_db()
    assert approval.reminded_at is not None


def test_escalation_asks_the_approvers_manager_once_and_either_decides(people):
    request = order(make_item(people, manager_step(escalate_after_hours=8)), people.requester)
    original = pending(request)[0]
    with time_machine.travel(original.escalate_at + timedelta(minutes=1), tick=False):
        counts = approvals_sweep()
        assert counts["escalated"] == 1
        assert approvals_sweep()["escalated"] == 0
    escalation = request.approvals.get(escalated_from=original)
    assert (escalation.approver, escalation.state, escalation.step) == (
        people.director,
        ApprovalState.PENDING,
        1,
    )
    assert escalation.escalate_at is None  # each escalation once
    assert any(
        line.startswith("Escalated to Dora Director: Mia Manager has not answered")
        for line in timeline(request)
    )

    decide(escalation)
    original.refresh_from_db()
    request.refresh_from_db()
    assert original.state == ApprovalState.SKIPPED
    assert request.state == RequestState.IN_FULFILMENT


def test_approvals_and_their_escalations_keep_the_steps_kind_and_group_as_ordered(people):
    finance = people.person("Fay Finance")
    item = make_item(people, manager_step(), group_step([people.manager, finance], 1, escalate_after_hours=2))
    request = order(item, people.requester)
    group = item.approval_steps.get(position=2).group
    kept = {(a.step, a.step_kind, a.step_group_id) for a in request.approvals.all()}
    assert kept == {(1, ApproverKind.MANAGER, None), (2, ApproverKind.GROUP, group.pk)}
    decide(pending(request)[0])
    asked = request.approvals.get(step=2, approver=people.manager)
    with time_machine.travel(asked.escalate_at + timedelta(minutes=1), tick=False):
        assert approvals_sweep()["escalated"] == 1
    escalation = request.approvals.get(escalated_from=asked)
    assert (escalation.approver, escalation.step_kind, escalation.step_group) == (
        people.director,
        ApproverKind.GROUP,
        group,
    )


def test_escalation_without_a_manager_leaves_a_note_for_agents(people):
    finance = people.person("Fay Finance")  # nobody manages her
    request = order(make_item(people, person_step(finance, escalate_after_hours=1)), people.requester)
    approval = pending(request)[0]
    with time_machine.travel(approval.escalate_at + timedelta(minutes=1), tick=False):
        assert approvals_sweep()["unescalated"] == 1
        assert approvals_sweep()["unescalated"] == 0
    assert request.approvals.count() == 1
    notes = timeline(request, EventKind.INTERNAL_NOTE)
    assert len(notes) == 1 and "Fay Finance has no manager on record" in notes[0]


def test_a_zero_escalation_setting_never_escalates(people):
    request = order(make_item(people, manager_step(escalate_after_hours=0)), people.requester)
    assert pending(request)[0].escalate_at is None
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert approvals_sweep()["escalated"] == 0


def test_the_desk_may_reject_a_request_awaiting_approval(people, make_user):
    agent = make_user("agent")
    request = order(make_item(people, manager_step()), people.requester)
    with pytest.raises(NotAllowed):
        request_reject(request=request, actor=people.requester, reason="No")
    with pytest.raises(ServiceError) as error:
        request_reject(request=request, actor=agent, reason="  ")
    assert error.value.field == "reason"
    request_reject(request=request, actor=agent, reason="Duplicate of REQ-1001")
    assert request.state == RequestState.REJECTED
    assert pending(request) == []
    with pytest.raises(ServiceError) as error:
        request_reject(request=request, actor=agent, reason="again")
    assert error.value.code == "request_final"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_decisions_one_wins(people):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write: no two decisions run at once")
    first_member, second_member = people.person("Ada One"), people.person("Bo Two")
    request = order(
        make_item(people, group_step([first_member, second_member], required=1)), people.requester
    )
    approvals = pending(request)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(approval: Approval) -> None:
        try:
            barrier.wait()
            decide(approval)
            outcomes.append("decided")
        except ServiceError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(approval,)) for approval in approvals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_decided", "decided"]
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
    assert request.tasks.count() == 1
    assert sorted(a.state for a in request.approvals.all()) == [ApprovalState.APPROVED, ApprovalState.SKIPPED]
