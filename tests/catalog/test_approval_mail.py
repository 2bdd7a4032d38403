"""The approval e-mail through a real SMTP server: the request with the answers, price,
expected date and working Approve / Reject links; reminders and escalations once."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine

from opsdesk.catalog.choices import ApprovalState, RequestState
from opsdesk.catalog.services.approvals import approval_decide, approvals_sweep
from opsdesk.catalog.tasks import sweep_approvals
from opsdesk.core.choices import JobStatus
from opsdesk.core.models import Job, Schedule
from opsdesk.core.scheduler import schedules_sync
from tests.catalog.approval_factories import make_item, manager_step, order, people, person_step
from tests.core.test_jobs_and_scheduler import run_queued_tasks

__all__ = ["people"]  # the fixture, used by name

# The worker that runs the queued mail jobs manages its own connections: real transactions.
pytestmark = pytest.mark.django_db(transaction=True)
LINK = re.compile(r"https?://\S+/catalog/approve/\S+/")


APPROVAL_SUBJECT = re.compile(
    r"^\[REQ\d+\] (Approval needed|Reminder: approval|Escalated: approval|Approval waiting)"
)


def approval_mails(server) -> list:
    # The desk's own notifications (the ticket was raised, is in progress…) go out too.
    return [message for message in server.messages if APPROVAL_SUBJECT.match(message["Subject"])]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_the_approver_gets_a_mail_whose_link_approves(smtp_server, people, client):
    item = make_item(people, manager_step())
    request = order(
        item, people.requester, answers={"model": "Performance 16-inch", "reason": "I edit <video> all day"}
    )
    run_queued_tasks()

    assert len(approval_mails(smtp_server)) == 1
    message = approval_mails(smtp_server)[0]
    number = request.ticket.number
    assert message["To"] == people.manager.email
    assert message["Subject"] == f"[{number}] Approval needed: New laptop for Ana Lopez"
    text = text_of(message)
    assert "Ana Lopez ordered New laptop, and your approval is needed." in text
    assert "Model: Performance 16-inch" in text
    assert "Why the performance model?: I edit <video> all day" in text
    assert "Price: 1450.00 EUR" in text
    assert "Expected delivery:" in text and "not set" not in text
    assert "&lt;video&gt;" in html_of(message)  # answers are escaped in the HTML part
    approve, reject = LINK.findall(text)
    assert approve != reject
    assert f"/catalog/requests/{number}/" in html_of(message)

    # The link page asks first (a GET never decides), then the button decides.
    path = urlsplit(approve).path
    assert client.get(path).status_code == 200
    assert request.approvals.get().state == ApprovalState.PENDING
    response = client.post(path, {"decision": "approve", "comment": "Enjoy"})
    assert response.status_code == 200
    approval = request.approvals.get()
    assert (approval.state, approval.comment, approval.decided_by) == (
        ApprovalState.APPROVED,
        "Enjoy",
        people.manager,
    )
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
    # A second click on the same link decides nothing.
    client.post(path, {"decision": "approve"})
    assert request.approvals.get().version == approval.version


def test_each_step_mails_its_approvers_when_it_opens(smtp_server, people):
    finance = people.person("Fay Finance")
    request = order(make_item(people, manager_step(), person_step(finance)), people.requester)
    run_queued_tasks()
    assert [m["To"] for m in approval_mails(smtp_server)] == [people.manager.email]
    first = request.approvals.get(step=1)
    approval_decide(actor=people.manager, approval=first, decision="approve")
    run_queued_tasks()
    assert [m["To"] for m in approval_mails(smtp_server)] == [people.manager.email, finance.email]


def test_no_control_character_reaches_a_header(smtp_server, people):
    people.requester.first_name = "Ana\r\nBcc: victim@example.com"
    people.requester.save()
    order(make_item(people, manager_step(), name="Laptop\x1b[31m"), people.requester)
    run_queued_tasks()
    message = approval_mails(smtp_server)[0]
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "\x1b" not in message["Subject"]
    assert message["X-Envelope-To"] == people.manager.email


def test_a_reminder_and_an_escalation_are_mailed_once(smtp_server, people):
    request = order(
        make_item(people, manager_step(remind_after_hours=2, escalate_after_hours=6)), people.requester
    )
    run_queued_tasks()
    approval = request.approvals.get()
    number = request.ticket.number

    with time_machine.travel(approval.remind_at + timedelta(minutes=1), tick=False):
        approvals_sweep()
        approvals_sweep()
        run_queued_tasks()
    subjects = [m["Subject"] for m in approval_mails(smtp_server)]
    assert subjects[1:] == [f"[{number}] Reminder: approval needed: New laptop for Ana Lopez"]

    with time_machine.travel(approval.escalate_at + timedelta(minutes=1), tick=False):
        approvals_sweep()
        approvals_sweep()
        run_queued_tasks()
    escalated = approval_mails(smtp_server)[2:]
    assert len(escalated) == 1
    assert escalated[0]["To"] == people.director.email
    assert escalated[0]["Subject"] == f"[{number}] Escalated: approval needed: New laptop for Ana Lopez"
    assert "Mia Manager has not answered in time" in text_of(escalated[0])
    assert len(LINK.findall(text_of(escalated[0]))) == 2


def test_an_approval_that_cannot_be_escalated_mails_the_fulfilment_team_lead(smtp_server, people):
    finance = people.person("Fay Finance")
    request = order(make_item(people, person_step(finance, escalate_after_hours=1)), people.requester)
    run_queued_tasks()
    approval = request.approvals.get()
    with time_machine.travel(approval.escalate_at + timedelta(minutes=1), tick=False):
        approvals_sweep()
        run_queued_tasks()
    last = approval_mails(smtp_server)[-1]
    assert last["To"] == people.lead.email
    assert "cannot be escalated" in last["Subject"]
    assert not LINK.findall(text_of(last))  # the lead is no approver: no decision links


def test_a_decided_approval_is_not_mailed(smtp_server, people):
    request = order(make_item(people, manager_step()), people.requester)
    approval_decide(actor=people.manager, approval=request.approvals.get(), decision="approve")
    run_queued_tasks()
    assert approval_mails(smtp_server) == []


def test_the_scheduled_sweep_job_sends_the_reminder(smtp_server, people):
    request = order(make_item(people, manager_step(remind_after_hours=1)), people.requester)
    run_queued_tasks()
    approval = request.approvals.get()
    schedules_sync()
    schedule = Schedule.objects.get(name="catalog-approvals-sweep")
    assert (schedule.task, schedule.cron) == ("opsdesk.catalog.tasks.sweep_approvals", "*/5 * * * *")

    with time_machine.travel(approval.remind_at + timedelta(minutes=1), tick=False):
        sweep_approvals.enqueue()
        run_queued_tasks()

    job = Job.objects.get(name="opsdesk.catalog.tasks.sweep_approvals")
    assert job.status == JobStatus.SUCCEEDED
    assert "1 reminded" in job.log
    assert [m["Subject"] for m in approval_mails(smtp_server)][-1].startswith(
        f"[{request.ticket.number}] Reminder: approval needed"
    )
