"""Ordering from the catalogue: who may order what for whom, the request ticket it becomes,
the expected date, nothing written when an order is refused, and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.accounts.choices import Role
from opsdesk.catalog import receivers
from opsdesk.catalog.choices import ApprovalState, ApproverKind, RequestState, TaskState
from opsdesk.catalog.models import Approval, CatalogRequest, RequestTask
from opsdesk.catalog.services.ordering import expected_delivery, request_cancel, request_order
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.tickets.choices import Channel, EventKind, Status, TicketType
from opsdesk.tickets.models import Attachment, Ticket, TimelineEvent
from opsdesk.tickets.signals import timeline_event_recorded
from tests.accounts.factories import OrganizationFactory
from tests.catalog.factories import (
    LAPTOP_FORM as BASE_LAPTOP_FORM,
)
from tests.catalog.factories import (
    ApprovalStepFactory,
    CatalogItemFactory,
    TaskTemplateFactory,
    team_with,
)
from tests.portfolio.factories import CalendarFactory

pytestmark = pytest.mark.django_db

LAPTOP_FORM = [
    *BASE_LAPTOP_FORM,
    {"key": "quantity", "label": "How many", "type": "number", "min": 1, "max": 10, "required": True},
    {"key": "photo", "label": "Photo of the old one", "type": "attachment"},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _receivers():
    receivers.connect()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def requester(make_user, org):
    return make_user(organization=org, first_name="Ana", last_name="Lopez")


@pytest.fixture
def laptop(make_user):
    agent = make_user(Role.AGENT)
    item = CatalogItemFactory(name="New laptop", form=LAPTOP_FORM, price=Decimal("1200.00"), delivery_days=5)
    TaskTemplateFactory(item=item, name="Prepare the laptop", team=team_with(agent))
    return item


def counts() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "requests": CatalogRequest.objects.count(),
        "approvals": Approval.objects.count(),
        "tasks": RequestTask.objects.count(),
        "attachments": Attachment.objects.count(),
        "events": TimelineEvent.objects.count(),
    }


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- the ticket it becomes --------------------------------------------------------------------
def test_an_order_becomes_a_request_ticket_carrying_the_answers(requester, laptop):
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    request = request_order(
        actor=requester,
        item=laptop,
        answers={"model": "Performance 16-inch", "reason": "Video editing", "quantity": 1},
        now=now,
    )
    ticket = request.ticket
    assert ticket.type == TicketType.REQUEST
    assert ticket.title == f"New laptop for {requester}"
    assert ticket.requester == requester
    assert ticket.service == laptop.offering.service
    assert ticket.channel == Channel.PORTAL
    assert "Performance 16-inch" in ticket.description_html and "Video editing" in ticket.description_html
    assert request.answers == {"model": "Performance 16-inch", "reason": "Video editing", "quantity": 1}
    assert request.form == laptop.form
    assert (request.price, request.currency) == (Decimal("1200.00"), "EUR")
    assert request.ordered_by == request.requested_for == requester
    # No calendar on the service: five calendar days.
    assert request.expected_at == now + timedelta(days=5)
    # No approval steps: fulfilment starts at once.
    assert request.state == RequestState.IN_FULFILMENT
    assert ticket.status == Status.IN_PROGRESS
    summaries = [event.data.get("summary", "") for event in ticket.events.filter(kind=EventKind.TASK)]
    assert any("Ordered from the catalogue" in summary for summary in summaries)


def test_hidden_answers_are_dropped(requester, laptop):
    request = request_order(
        actor=requester,
        item=laptop,
        answers={"model": "Standard 14-inch", "reason": "not asked", "quantity": 2},
    )
    assert request.answers == {"model": "Standard 14-inch", "quantity": 2}
    assert "not asked" not in request.ticket.description


def test_a_long_item_name_still_gives_a_valid_title(requester):
    item = CatalogItemFactory(name="L" * 150)
    request = request_order(actor=requester, item=item, answers={})
    assert len(request.ticket.title) <= 200


def test_an_attachment_is_stored_on_the_ticket_and_recorded_in_the_answers(requester, laptop, settings):
    request = request_order(
        actor=requester,
        item=laptop,
        answers={"model": "Standard 14-inch", "quantity": 1},
        files={"photo": SimpleUploadedFile("old.png", PNG, content_type="image/png")},
    )
    attachment = Attachment.objects.get(ticket=request.ticket)
    assert request.answers["photo"] == {"attachment": attachment.pk, "name": "old.png"}
    assert "old.png" in request.ticket.description_html
    assert len(stored_files(settings)) == 1


# --- on behalf ---------------------------------------------------------------------------------
def test_a_colleague_orders_on_behalf_and_watches_the_ticket(make_user, requester, laptop, org):
    colleague = make_user(organization=org)
    request = request_order(
        actor=colleague,
        item=laptop,
        answers={"model": "Standard 14-inch", "quantity": 1},
        requested_for=requester,
    )
    assert request.requested_for == requester and request.ordered_by == colleague
    assert request.ticket.requester == requester
    assert request.ticket.title == f"New laptop for {requester}"
    assert list(request.ticket.watchers.all()) == [colleague]


def test_a_stranger_may_not_order_on_behalf(make_user, requester, laptop):
    stranger = make_user(organization=OrganizationFactory())
    before = counts()
    with pytest.raises(NotAllowed) as refused:
        request_order(
            actor=stranger,
            item=laptop,
            answers={"model": "Standard 14-inch", "quantity": 1},
            requested_for=requester,
        )
    assert refused.value.field == "requested_for"
    assert "own organisation" in refused.value.message
    assert counts() == before


def test_on_behalf_is_refused_where_the_item_forbids_it(make_user, requester, laptop, org):
    laptop.allow_on_behalf = False
    laptop.save()
    with pytest.raises(NotAllowed, match="for themselves"):
        request_order(
            actor=make_user(organization=org),
            item=laptop,
            answers={"model": "Standard 14-inch", "quantity": 1},
            requested_for=requester,
        )


def test_an_agent_orders_for_anyone(make_user, requester, laptop):
    agent = make_user(Role.AGENT, organization=OrganizationFactory())
    request = request_order(
        actor=agent,
        item=laptop,
        answers={"model": "Standard 14-inch", "quantity": 1},
        requested_for=requester,
        channel=Channel.PHONE,
    )
    assert request.ticket.requester == requester
    assert request.ticket.channel == Channel.PHONE
    assert request.ordered_by == agent


def test_an_auditor_may_not_order(make_user, laptop):
    with pytest.raises(NotAllowed):
        request_order(actor=make_user(Role.AUDITOR), item=laptop, answers={"model": "Standard 14-inch"})


# --- who the item is offered to ------------------------------------------------------------------
def test_an_item_for_another_organisation_is_refused(requester):
    item = CatalogItemFactory()
    item.organizations.set([OrganizationFactory()])
    before = counts()
    with pytest.raises(NotAllowed, match="not offered"):
        request_order(actor=requester, item=item, answers={})
    assert counts() == before


def test_an_item_for_other_roles_is_refused_for_the_person_it_is_for(make_user, requester):
    item = CatalogItemFactory(roles=[Role.AGENT])
    with pytest.raises(NotAllowed, match="not offered"):
        request_order(actor=make_user(Role.AGENT), item=item, answers={}, requested_for=requester)


def test_an_inactive_item_is_refused(requester):
    item = CatalogItemFactory(is_active=False)
    with pytest.raises(ServiceError, match="no longer offered"):
        request_order(actor=requester, item=item, answers={})


def test_an_item_offered_to_the_organisation_is_ordered(requester, org):
    item = CatalogItemFactory()
    item.organizations.set([org])
    assert request_order(actor=requester, item=item, answers={}).state == RequestState.IN_FULFILMENT


def test_an_unknown_channel_is_refused(requester, laptop):
    with pytest.raises(ServiceError) as refused:
        request_order(actor=requester, item=laptop, answers={}, channel="pigeon")
    assert refused.value.field == "channel"


# --- refused answers write nothing -----------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({"model": "Performance 16-inch", "quantity": 1}, "reason"),  # visible and required
        ({"model": "Standard 14-inch", "quantity": 11}, "quantity"),
        ({"model": "Tablet", "quantity": 1}, "model"),
        ({"model": "Standard 14-inch", "quantity": 1, "colour": "red"}, "colour"),
    ],
)
def test_invalid_answers_write_nothing(requester, laptop, settings, answers, key):
    before = counts()
    with pytest.raises(ServiceError) as refused:
        request_order(
            actor=requester,
            item=laptop,
            answers=answers,
            files={"photo": SimpleUploadedFile("old.png", PNG, content_type="image/png")},
        )
    assert refused.value.code == "invalid_answers"
    assert key in refused.value.errors
    assert counts() == before
    assert stored_files(settings) == []


def test_a_failure_after_the_files_were_stored_removes_them(requester, laptop, settings):
    def failing_receiver(sender, event, **kwargs):
        if event.kind == EventKind.TASK:
            raise RuntimeError("the timeline is down")

    before = counts()
    timeline_event_recorded.connect(failing_receiver, dispatch_uid="test-failing-timeline")
    try:
        with pytest.raises(RuntimeError):
            request_order(
                actor=requester,
                item=laptop,
                answers={"model": "Standard 14-inch", "quantity": 1},
                files={"photo": SimpleUploadedFile("old.png", PNG, content_type="image/png")},
            )
    finally:
        timeline_event_recorded.disconnect(dispatch_uid="test-failing-timeline")
    assert counts() == before
    assert stored_files(settings) == []


def test_an_order_whose_approval_cannot_be_staffed_writes_nothing(requester):
    item = CatalogItemFactory()
    ApprovalStepFactory(item=item, position=1, kind=ApproverKind.MANAGER)
    before = counts()
    with pytest.raises(ServiceError, match="manager"):
        request_order(actor=requester, item=item, answers={})
    assert counts() == before


def test_an_order_with_an_approval_step_waits_for_the_manager(make_user, org):
    manager = make_user(organization=org)
    person = make_user(organization=org, manager=manager)
    item = CatalogItemFactory()
    ApprovalStepFactory(item=item, position=1, kind=ApproverKind.MANAGER)
    TaskTemplateFactory(item=item)
    request = request_order(actor=person, item=item, answers={})
    assert request.state == RequestState.AWAITING_APPROVAL
    approval = request.approvals.get()
    assert (approval.approver, approval.state) == (manager, ApprovalState.PENDING)
    assert not request.tasks.exists()


# --- the expected date --------------------------------------------------------------------------
def test_expected_delivery_counts_business_days_of_the_service_hours():
    calendar = CalendarFactory(
        time_zone="Europe/Berlin",
        working_hours={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        closures=["2025-03-07"],
    )
    item = CatalogItemFactory(delivery_days=3, offering__service__service_hours=calendar)
    # Ordered on Wednesday 5 March: Thursday, (Friday is closed), Monday, Tuesday.
    start = datetime(2025, 3, 5, 15, 0, tzinfo=UTC)
    expected = expected_delivery(item=item, start=start)
    assert expected == datetime(2025, 3, 11, 16, 0, tzinfo=UTC)  # 17:00 in Berlin


def test_expected_delivery_without_hours_is_calendar_days():
    item = CatalogItemFactory(delivery_days=2)
    start = datetime(2025, 3, 8, 10, 0, tzinfo=UTC)  # a Saturday
    assert expected_delivery(item=item, start=start) == start + timedelta(days=2)


def test_expected_delivery_with_a_calendar_without_working_time_is_calendar_days():
    item = CatalogItemFactory(
        delivery_days=2, offering__service__service_hours=CalendarFactory(working_hours={})
    )
    start = datetime(2025, 3, 8, 10, 0, tzinfo=UTC)
    assert expected_delivery(item=item, start=start) == start + timedelta(days=2)


# --- cancelling ---------------------------------------------------------------------------------
def test_the_requester_cancels_an_open_request(requester, laptop):
    request = request_order(
        actor=requester, item=laptop, answers={"model": "Standard 14-inch", "quantity": 1}
    )
    request_cancel(actor=requester, request=request, reason="Not needed any more")
    request.refresh_from_db()
    assert request.state == RequestState.CANCELLED
    assert request.closed_reason == "Not needed any more"
    assert request.ticket.status == Status.CANCELLED
    assert set(request.tasks.values_list("state", flat=True)) == {TaskState.CANCELLED}


def test_cancelling_skips_pending_approvals(make_user, org):
    manager = make_user(organization=org)
    person = make_user(organization=org, manager=manager)
    item = CatalogItemFactory()
    ApprovalStepFactory(item=item, position=1, kind=ApproverKind.MANAGER)
    request = request_order(actor=person, item=item, answers={})
    request_cancel(actor=person, request=request)
    assert set(request.approvals.values_list("state", flat=True)) == {ApprovalState.SKIPPED}
    assert request.state == RequestState.CANCELLED


def test_the_colleague_who_ordered_may_cancel(make_user, requester, laptop, org):
    colleague = make_user(organization=org)
    request = request_order(
        actor=colleague,
        item=laptop,
        answers={"model": "Standard 14-inch", "quantity": 1},
        requested_for=requester,
    )
    request_cancel(actor=colleague, request=request, reason="Wrong person")
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.CANCELLED


def test_someone_else_may_not_cancel(make_user, requester, laptop, org):
    request = request_order(
        actor=requester, item=laptop, answers={"model": "Standard 14-inch", "quantity": 1}
    )
    for outsider in (make_user(organization=org), make_user(Role.AUDITOR)):
        with pytest.raises(NotAllowed):
            request_cancel(actor=outsider, request=request)
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT


def test_a_finished_request_is_not_cancelled_again(requester, laptop):
    request = request_order(
        actor=requester, item=laptop, answers={"model": "Standard 14-inch", "quantity": 1}
    )
    request_cancel(actor=requester, request=request)
    with pytest.raises(ServiceError) as refused:
        request_cancel(actor=requester, request=request)
    assert refused.value.code == "request_final"


def test_cancelling_a_stale_version_is_refused(make_user, requester, laptop):
    request = request_order(
        actor=requester, item=laptop, answers={"model": "Standard 14-inch", "quantity": 1}
    )
    with pytest.raises(ConcurrencyConflict):
        request_cancel(actor=make_user(Role.AGENT), request=request, expected_version=request.version - 1)
    request.refresh_from_db()
    assert request.state == RequestState.IN_FULFILMENT
