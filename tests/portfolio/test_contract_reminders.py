"""Renewal reminders: the owner hears once, by real e-mail, when the reminder window opens."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from opsdesk.core.choices import JobStatus
from opsdesk.core.models import Job
from opsdesk.portfolio.models import Contract
from opsdesk.portfolio.tasks import send_contract_renewal_reminders
from tests.core.test_jobs_and_scheduler import run_queued_tasks
from tests.portfolio.factories import ContractFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_owner_is_reminded_once_before_the_notice_date(make_user, smtp_server):
    owner = make_user(role="manager", email="buyer@example.com")
    today = timezone.localdate()
    # Notice date in 20 days; the 30-day reminder window is open.
    due = ContractFactory(
        reference="HOST-1",
        owner=owner,
        end_date=today + timedelta(days=110),
        notice_period_days=90,
        reminder_days=30,
    )
    ContractFactory(reference="LATER", owner=owner, end_date=today + timedelta(days=400))
    ContractFactory(reference="OPEN-ENDED", owner=owner, end_date=None)

    send_contract_renewal_reminders.enqueue()
    run_queued_tasks()
    assert [message["Subject"] for message in smtp_server.messages] == [
        f"Notice date {due.notice_date:%d %b %Y}: {due}"
    ]
    message = smtp_server.messages[0]
    assert message["X-Envelope-To"] == "buyer@example.com"
    assert "Notice must be given by" in message.get_content()
    assert Contract.objects.get(pk=due.pk).reminded_for_notice_date == due.notice_date

    send_contract_renewal_reminders.enqueue()
    run_queued_tasks()
    assert len(smtp_server.messages) == 1
    assert (
        Job.objects.filter(
            name__endswith="send_contract_renewal_reminders", status=JobStatus.SUCCEEDED
        ).count()
        == 2
    )


def test_notice_and_reminder_dates_follow_the_contract_terms():
    contract = Contract(
        start_date=date(2025, 1, 1), end_date=date(2026, 12, 31), notice_period_days=90, reminder_days=30
    )
    assert contract.notice_date == date(2026, 10, 2)
    assert contract.reminder_date == date(2026, 9, 2)
