"""The requester's and approver's pages: browsing and ordering, following an order on its
ticket page, deciding from the inbox or the signed e-mail link, and stand-ins."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, RequestState, TaskState
from opsdesk.catalog.constants import APPROVAL_LINK_MAX_AGE_DAYS
from opsdesk.catalog.models import Approval, ApprovalDelegation, ApprovalStep, CatalogRequest
from opsdesk.catalog.services.approvals import approval_link, delegation_save
from opsdesk.catalog.services.ordering import request_order
from opsdesk.tickets.models import Ticket
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.catalog.factories import (
    LAPTOP_FORM,
    CatalogCategoryFactory,
    CatalogItemFactory,
    TaskTemplateFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return OrganizationFactory(name="Acme")


@pytest.fixture
def mia(acme):
    return UserFactory(username="mia", first_name="Mia", last_name="Manager", organization=acme)


@pytest.fixture
def rita(acme, mia):
    return UserFactory(username="rita", first_name="Rita", last_name="Lang", organization=acme, manager=mia)


@pytest.fixture
def hardware():
    return CatalogCategoryFactory(name="Hardware", slug="hardware")


@pytest.fixture
def laptop(hardware):
    item = CatalogItemFactory(
        name="New laptop",
        slug="new-laptop",
        category=hardware,
        summary="A laptop for work",
        description="**Fast** laptops. <script>alert(1)</script>",
        price=Decimal("1450.00"),
        delivery_days=5,
        form=LAPTOP_FORM,
    )
    ApprovalStep.objects.create(item=item, position=1, kind=ApproverKind.MANAGER, name="Manager")
    desk, stores = TeamFactory(name="Desk"), TeamFactory(name="Stores")
    TaskTemplateFactory(item=item, stage=1, name="Image the laptop", team=desk)
    TaskTemplateFactory(item=item, stage=1, name="Hand out the laptop", team=stores)
    return item


def order_laptop(item, person, **kwargs) -> CatalogRequest:
    answers = kwargs.pop("answers", {"model": "Standard 14-inch"})
    return request_order(actor=person, item=item, answers=answers, **kwargs)


def pending_of(order: CatalogRequest) -> Approval:
    return order.approvals.get(state=ApprovalState.PENDING)


# --- browsing ------------------------------------------------------------------------------------
def test_browse_lists_the_items_offered_with_price_and_delivery(client, rita, laptop):
    elsewhere = OrganizationFactory(name="Globex")
    secret = CatalogItemFactory(name="Globex badge", category=laptop.category)
    secret.organizations.set([elsewhere])
    CatalogItemFactory(name="Retired phone", category=laptop.category, is_active=False)
    client.force_login(rita)
    response = client.get(reverse("catalog:browse"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "New laptop" in page and "1,450.00 EUR" in page and "Delivered in 5 working days" in page
    assert "Globex badge" not in page and "Retired phone" not in page
    assert 'href="?category=hardware"' in page


def test_browse_searches_and_filters_by_category_with_empty_states(client, rita, laptop):
    CatalogItemFactory(name="VPN token", category=CatalogCategoryFactory(name="Access", slug="access"))
    client.force_login(rita)
    found = client.get(reverse("catalog:browse"), {"q": "laptop"}).content.decode()
    assert "New laptop" in found and "VPN token" not in found
    shelf = client.get(reverse("catalog:browse"), {"category": "access"}).content.decode()
    assert "VPN token" in shelf and "New laptop" not in shelf
    nothing = client.get(reverse("catalog:browse"), {"q": "submarine"}).content.decode()
    assert "Nothing matches your search" in nothing
    unknown = client.get(reverse("catalog:browse"), {"category": "nope"}).content.decode()
    assert "Nothing to order here yet" in unknown and "New laptop" not in unknown


def test_an_empty_catalogue_says_so_and_offers_the_plain_request(client, rita):
    client.force_login(rita)
    page = client.get(reverse("catalog:browse")).content.decode()
    assert "The catalogue is empty for now" in page
    assert reverse("tickets:create") + "?type=request" in page


def test_browse_costs_the_same_with_many_items(client, rita, laptop, django_assert_max_num_queries):
    client.force_login(rita)
    client.get(reverse("catalog:browse"))  # warm the session
    for number in range(20):
        CatalogItemFactory(name=f"Thing {number}", category=CatalogCategoryFactory())
    with django_assert_max_num_queries(8):
        response = client.get(reverse("catalog:browse"))
    assert response.content.decode().count("catalog-card") == 21


def test_the_catalogue_needs_a_sign_in(client, laptop):
    response = client.get(reverse("catalog:browse"))
    assert response.status_code == 302 and "/login/" in response.url


# --- the item page and ordering -------------------------------------------------------------------
def test_the_item_page_shows_price_expected_date_approver_and_the_form(client, rita, laptop):
    client.force_login(rita)
    response = client.get(laptop.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Fast</strong> laptops." in page and "<script>alert" not in page
    expected = (timezone.now() + timedelta(days=5)).strftime("%-d %B %Y")
    assert "Expected by" in page and expected in page
    assert "Your manager, Mia Manager" in page
    assert "data-catalog-order-form" in page
    assert 'data-show-if-field="model"' in page and "Performance 16-inch" in page
    assert "catalog/order_form.js" in page


def test_the_item_page_warns_when_no_manager_is_recorded(client, acme, laptop):
    loner = UserFactory(organization=acme)
    client.force_login(loner)
    page = client.get(laptop.get_absolute_url()).content.decode()
    assert "we have no manager recorded for you" in page


def test_an_item_not_offered_to_the_person_is_missing(client, rita, laptop):
    laptop.organizations.set([OrganizationFactory()])
    client.force_login(rita)
    assert client.get(laptop.get_absolute_url()).status_code == 404
    assert (
        client.post(reverse("catalog:order", args=[laptop.slug]), {"model": "Standard 14-inch"}).status_code
        == 404
    )
    assert not CatalogRequest.objects.exists()


def test_item_slugs_never_hide_the_other_catalogue_pages():
    assert reverse("catalog:item", args=["new-laptop"]) == "/catalog/new-laptop/"
    from django.urls import resolve

    assert resolve("/catalog/requests/").url_name == "my_requests"
    assert resolve("/catalog/approvals/").url_name == "approvals"
    assert resolve("/catalog/tasks-and-more/").url_name == "item"


def test_ordering_raises_the_request_and_lands_on_its_ticket(client, rita, laptop):
    client.force_login(rita)
    response = client.post(
        reverse("catalog:order", args=[laptop.slug]),
        {"model": "Performance 16-inch", "reason": "I edit video.", "requested_for": str(rita.pk)},
    )
    order = CatalogRequest.objects.get()
    assert response.status_code == 302 and response.url == order.ticket.get_absolute_url()
    assert order.answers == {"model": "Performance 16-inch", "reason": "I edit video."}
    assert order.state == RequestState.AWAITING_APPROVAL and order.requested_for == rita
    page = client.get(response.url).content.decode()
    assert f"your order of New laptop is {order.ticket.number}" in page
    assert 'id="request-panel"' in page and "Waiting for approval" in page and "Mia Manager" in page


def test_a_conditional_required_answer_is_required_only_when_shown(client, rita, laptop):
    client.force_login(rita)
    url = reverse("catalog:order", args=[laptop.slug])
    refused = client.post(url, {"model": "Performance 16-inch", "reason": "  "})
    assert refused.status_code == 400
    assert not CatalogRequest.objects.exists() and not Ticket.objects.exists()
    assert "Why the performance model?" in refused.content.decode()
    assert refused.context["form"].errors["reason"]
    # Shown only for the performance model: the standard one is ordered without a reason,
    # and a reason sent anyway (a stale, hidden answer) is dropped.
    accepted = client.post(url, {"model": "Standard 14-inch", "reason": "left over"})
    assert accepted.status_code == 302
    assert CatalogRequest.objects.get().answers == {"model": "Standard 14-inch"}


def test_an_answer_outside_the_choices_is_refused_on_its_field(client, rita, laptop):
    client.force_login(rita)
    response = client.post(reverse("catalog:order", args=[laptop.slug]), {"model": "Gold-plated"})
    assert response.status_code == 400 and response.context["form"].errors["model"]
    assert not CatalogRequest.objects.exists()


def test_an_order_that_cannot_be_approved_is_refused_clearly_and_writes_nothing(client, acme, laptop):
    loner = UserFactory(organization=acme)
    client.force_login(loner)
    response = client.post(reverse("catalog:order", args=[laptop.slug]), {"model": "Standard 14-inch"})
    assert response.status_code == 400
    assert "no manager is recorded for" in response.content.decode()
    assert not CatalogRequest.objects.exists() and not Ticket.objects.exists()


def test_ordering_for_a_colleague_and_not_for_a_stranger(client, rita, acme, laptop):
    colleague = UserFactory(first_name="Carl", organization=acme, manager=rita)
    stranger = UserFactory(first_name="Sven", organization=OrganizationFactory(), manager=rita)
    client.force_login(rita)
    url = reverse("catalog:order", args=[laptop.slug])
    refused = client.post(url, {"model": "Standard 14-inch", "requested_for": str(stranger.pk)})
    assert refused.status_code == 400 and not CatalogRequest.objects.exists()
    client.post(url, {"model": "Standard 14-inch", "requested_for": str(colleague.pk)})
    order = CatalogRequest.objects.get()
    assert order.requested_for == colleague and order.ordered_by == rita


def test_read_only_roles_order_nothing(client, laptop):
    auditor = UserFactory(role=Role.AUDITOR)
    client.force_login(auditor)
    assert "You cannot order here" in client.get(laptop.get_absolute_url()).content.decode()
    response = client.post(reverse("catalog:order", args=[laptop.slug]), {"model": "Standard 14-inch"})
    assert response.status_code == 403 and not CatalogRequest.objects.exists()


def test_opening_the_order_address_goes_back_to_the_item(client, rita, laptop):
    client.force_login(rita)
    response = client.get(reverse("catalog:order", args=[laptop.slug]))
    assert response.status_code == 302 and response.url == laptop.get_absolute_url() + "#order"


# --- following orders ----------------------------------------------------------------------------
def test_my_requests_lists_mine_by_state_and_not_others(client, rita, acme, laptop):
    mine = order_laptop(laptop, rita)
    other = UserFactory(organization=acme, manager=rita)
    theirs = order_laptop(laptop, other)
    client.force_login(rita)
    page = client.get(reverse("catalog:my_requests")).content.decode()
    assert mine.ticket.number in page and theirs.ticket.number not in page
    assert "Awaiting approval" in page
    closed = client.get(reverse("catalog:my_requests"), {"show": "closed"}).content.decode()
    assert "Nothing finished yet" in closed


def test_my_requests_is_friendly_when_empty(client, rita):
    client.force_login(rita)
    assert "No orders under way" in client.get(reverse("catalog:my_requests")).content.decode()


def test_a_request_address_leads_to_its_ticket_or_the_approval(client, rita, mia, acme, laptop):
    order = order_laptop(laptop, rita)
    url = reverse("catalog:request", args=[order.ticket.number])
    client.force_login(rita)
    assert client.get(url).url == order.ticket.get_absolute_url()
    client.force_login(mia)  # the approver may not read the ticket: their approval instead
    assert client.get(url).url == pending_of(order).get_absolute_url()
    client.force_login(UserFactory(organization=OrganizationFactory()))
    assert client.get(url).status_code == 404
    assert client.get(reverse("catalog:request", args=["NOPE-1"])).status_code == 404


def test_the_ticket_panel_follows_the_request_in_plain_words(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    client.force_login(mia)
    client.post(
        reverse("catalog:approval", args=[pending_of(order).pk]),
        {"decision": Decision.APPROVE, "comment": "Enjoy", "version": pending_of(order).version},
    )
    client.force_login(rita)
    page = client.get(order.ticket.get_absolute_url()).content.decode()
    assert "Approved and being prepared: 0 of 2 tasks done." in page
    assert "“Enjoy”" in page and "Image the laptop" in page and "Hand out the laptop" in page
    assert "To do" in page  # requesters read plain words, not task numbers
    assert "TASK" not in page.split('id="request-tasks"')[1].split("</ol>")[0]


def test_the_agent_sees_task_numbers_in_the_panel(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    client.force_login(mia)
    approval = pending_of(order)
    client.post(
        reverse("catalog:approval", args=[approval.pk]), {"decision": "approve", "version": approval.version}
    )
    agent = UserFactory(role=Role.AGENT)
    client.force_login(agent)
    page = client.get(order.ticket.get_absolute_url()).content.decode()
    for task in order.tasks.all():
        assert reverse("catalog:task", args=[task.number]) in page


def test_the_panel_costs_the_same_for_a_bigger_plan(client, rita, mia, acme, laptop):
    def queries_of(url: str) -> int:
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    small = order_laptop(laptop, rita)
    for number in range(6):
        TaskTemplateFactory(item=laptop, stage=2, name=f"Extra {number}")
    ApprovalStep.objects.create(item=laptop, position=2, kind=ApproverKind.PERSON, person=mia, name="Budget")
    bigger = order_laptop(laptop, rita)
    client.force_login(rita)
    assert queries_of(bigger.ticket.get_absolute_url()) == queries_of(small.ticket.get_absolute_url())


def test_no_panel_on_an_incident(client, rita):
    from opsdesk.tickets.services import ticket_create

    ticket = ticket_create(actor=rita, title="Printer jams", requester=rita)
    client.force_login(rita)
    assert 'id="request-panel"' not in client.get(ticket.get_absolute_url()).content.decode()


# --- approving in the UI ---------------------------------------------------------------------------
def test_the_inbox_lists_what_waits_for_the_approver_only(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    client.force_login(mia)
    page = client.get(reverse("catalog:approvals")).content.decode()
    assert order.ticket.number in page and "New laptop for Rita Lang" in page
    assert "data-queue-row" in page and "tickets/tickets.js" in page
    client.force_login(rita)
    assert "Nothing waits for you" in client.get(reverse("catalog:approvals")).content.decode()


def test_approving_from_the_approval_page_starts_fulfilment(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    approval = pending_of(order)
    client.force_login(mia)
    page = client.get(reverse("catalog:approval", args=[approval.pk]), {"decision": "approve"})
    assert page.status_code == 200
    assert 'value="approve" autocomplete="off" checked' in page.content.decode()
    assert "Standard 14-inch" in page.content.decode()  # the answers
    response = client.post(
        reverse("catalog:approval", args=[approval.pk]),
        {"decision": "approve", "comment": "Fine", "version": approval.version},
    )
    assert response.status_code == 302 and response.url == reverse("catalog:approvals")
    order.refresh_from_db()
    assert order.state == RequestState.IN_FULFILMENT
    assert set(order.tasks.values_list("state", flat=True)) == {TaskState.OPEN}
    again = client.post(
        reverse("catalog:approval", args=[approval.pk]),
        {"decision": "reject", "comment": "No", "version": 99},
    )
    assert again.status_code in (400, 409) and "already" in again.content.decode()


def test_rejecting_needs_a_reason_and_closes_the_request_with_it(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    approval = pending_of(order)
    client.force_login(mia)
    url = reverse("catalog:approval", args=[approval.pk])
    refused = client.post(url, {"decision": "reject", "comment": " ", "version": approval.version})
    assert refused.status_code == 400 and refused.context["form"].errors["comment"]
    assert pending_of(order).state == ApprovalState.PENDING
    client.post(url, {"decision": "reject", "comment": "Budget is frozen", "version": approval.version})
    order.refresh_from_db()
    assert order.state == RequestState.REJECTED and "Budget is frozen" in order.closed_reason
    client.force_login(rita)
    page = client.get(order.ticket.get_absolute_url()).content.decode()
    assert "Not approved." in page and "Budget is frozen" in page


def test_a_stale_decision_is_refused_not_merged(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    approval = pending_of(order)
    client.force_login(mia)
    response = client.post(
        reverse("catalog:approval", args=[approval.pk]),
        {"decision": "approve", "version": approval.version + 5},
    )
    assert response.status_code == 409
    assert pending_of(order).state == ApprovalState.PENDING


def test_the_requester_sees_the_approval_but_may_not_decide(client, rita, mia, laptop):
    order = order_laptop(laptop, rita)
    approval = pending_of(order)
    client.force_login(rita)
    page = client.get(reverse("catalog:approval", args=[approval.pk])).content.decode()
    assert 'id="decide"' not in page
    response = client.post(
        reverse("catalog:approval", args=[approval.pk]), {"decision": "approve", "version": approval.version}
    )
    assert response.status_code == 403
    assert pending_of(order).state == ApprovalState.PENDING


def test_strangers_do_not_even_see_an_approval(client, rita, laptop):
    order = order_laptop(laptop, rita)
    client.force_login(UserFactory(organization=OrganizationFactory()))
    url = reverse("catalog:approval", args=[pending_of(order).pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve"}).status_code == 404
    assert client.get(reverse("catalog:approval", args=[999999])).status_code == 404


# --- the signed link -------------------------------------------------------------------------------
def test_the_e_mail_link_shows_the_order_and_decides_without_signing_in(client, rita, laptop):
    order = order_laptop(laptop, rita)
    approval = pending_of(order)
    url = approval_link(approval=approval, decision=Decision.APPROVE)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "New laptop for Rita Lang" in body and "Standard 14-inch" in body
    assert 'value="approve" autocomplete="off" checked' in body
    done = client.post(url, {"decision": "approve", "comment": "Go ahead"})
    assert done.status_code == 200 and "You approved" in done.content.decode()
    approval.refresh_from_db()
    assert approval.state == ApprovalState.APPROVED and approval.decided_by == approval.approver
    assert approval.comment == "Go ahead"
    reused = client.get(url)
    assert reused.status_code == 410 and "already decided" in reused.content.decode()
    assert client.post(url, {"decision": "reject", "comment": "x"}).status_code == 410


def test_a_forged_or_mangled_link_is_a_clear_400(client, rita, laptop):
    order = order_laptop(laptop, rita)
    url = approval_link(approval=pending_of(order), decision=Decision.APPROVE)
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = reverse("catalog:approval_link", args=[token[:-3] + "abc"])
    response = client.get(forged)
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert client.post(forged, {"decision": "approve"}).status_code == 400
    assert client.get(reverse("catalog:approval_link", args=["x" * 5000])).status_code == 400
    assert pending_of(order).state == ApprovalState.PENDING


def test_an_expired_link_is_gone(client, rita, laptop):
    order = order_laptop(laptop, rita)
    url = approval_link(approval=pending_of(order), decision=Decision.REJECT)
    with time_machine.travel(timezone.now() + timedelta(days=APPROVAL_LINK_MAX_AGE_DAYS + 1)):
        response = client.get(url)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_the_link_form_asks_a_reason_to_reject(client, rita, laptop):
    order = order_laptop(laptop, rita)
    url = approval_link(approval=pending_of(order), decision=Decision.REJECT)
    response = client.post(url, {"decision": "reject", "comment": ""})
    assert response.status_code == 400 and "Say why you reject it" in response.content.decode()
    assert pending_of(order).state == ApprovalState.PENDING


# --- stand-ins -------------------------------------------------------------------------------------
def test_adding_a_stand_in_hands_the_inbox_over(client, rita, mia, acme, laptop):
    order = order_laptop(laptop, rita)
    sam = UserFactory(first_name="Sam", last_name="Standin", organization=acme)
    client.force_login(mia)
    assert "Nobody stands in for you" in client.get(reverse("catalog:delegations")).content.decode()
    today = timezone.localdate()
    response = client.post(
        reverse("catalog:delegation_add"),
        {"delegate": sam.pk, "starts_on": today, "ends_on": today + timedelta(days=7), "reason": "Holiday"},
    )
    assert response.status_code == 302
    assert ApprovalDelegation.objects.get().approver == mia
    assert "Sam Standin" in client.get(reverse("catalog:delegations")).content.decode()
    client.force_login(sam)
    inbox = client.get(reverse("catalog:approvals")).content.decode()
    assert order.ticket.number in inbox
    approval = Approval.objects.get(request=order, state=ApprovalState.PENDING)
    client.post(
        reverse("catalog:approval", args=[approval.pk]), {"decision": "approve", "version": approval.version}
    )
    order.refresh_from_db()
    assert order.state == RequestState.IN_FULFILMENT


def test_a_stand_in_period_backwards_or_overlapping_is_refused_by_field(client, mia, acme):
    sam = UserFactory(organization=acme)
    client.force_login(mia)
    today = timezone.localdate()
    url = reverse("catalog:delegation_add")
    backwards = client.post(
        url, {"delegate": sam.pk, "starts_on": today, "ends_on": today - timedelta(days=1)}
    )
    assert backwards.status_code == 400 and backwards.context["form"].errors["ends_on"]
    delegation_save(
        actor=mia, data={"delegate": sam.pk, "starts_on": today, "ends_on": today + timedelta(days=3)}
    )
    overlap = client.post(url, {"delegate": sam.pk, "starts_on": today, "ends_on": today + timedelta(days=1)})
    assert overlap.status_code == 400 and overlap.context["form"].errors["starts_on"]
    assert ApprovalDelegation.objects.count() == 1


def test_editing_a_stand_in_with_a_stale_version_is_a_conflict(client, mia, acme):
    sam, tom = UserFactory(organization=acme), UserFactory(organization=acme)
    today = timezone.localdate()
    delegation = delegation_save(
        actor=mia, data={"delegate": sam.pk, "starts_on": today, "ends_on": today + timedelta(days=3)}
    )
    client.force_login(mia)
    url = reverse("catalog:delegation_edit", args=[delegation.pk])
    assert client.get(url).status_code == 200
    data = {"delegate": tom.pk, "starts_on": today, "ends_on": today + timedelta(days=2)}
    stale = client.post(url, {**data, "version": delegation.version + 1})
    assert stale.status_code == 409
    delegation.refresh_from_db()
    assert delegation.delegate == sam
    saved = client.post(url, {**data, "version": delegation.version})
    assert saved.status_code == 302
    delegation.refresh_from_db()
    assert delegation.delegate == tom


def test_other_peoples_stand_ins_are_out_of_reach(client, mia, rita, acme):
    sam = UserFactory(organization=acme)
    today = timezone.localdate()
    delegation = delegation_save(
        actor=mia, data={"delegate": sam.pk, "starts_on": today, "ends_on": today + timedelta(days=3)}
    )
    client.force_login(rita)
    assert client.get(reverse("catalog:delegation_edit", args=[delegation.pk])).status_code == 404
    assert client.post(reverse("catalog:delegation_delete", args=[delegation.pk])).status_code == 404
    client.force_login(sam)  # the stand-in sees it but may not change it
    assert client.get(reverse("catalog:delegation_edit", args=[delegation.pk])).status_code == 403
    client.force_login(mia)
    response = client.post(
        reverse("catalog:delegation_delete", args=[delegation.pk]), {"version": delegation.version}
    )
    assert response.status_code == 302 and not ApprovalDelegation.objects.exists()


def test_a_requester_manager_picks_a_stand_in_from_their_organisation_only(client, mia, acme):
    UserFactory(first_name="Colleague", organization=acme)
    UserFactory(first_name="Outsider", organization=OrganizationFactory())
    client.force_login(mia)
    page = client.get(reverse("catalog:delegation_add")).content.decode()
    assert "Colleague" in page and "Outsider" not in page
    assert 'name="approver"' not in page  # people arrange their own stand-in


def test_a_team_stays_out_of_the_requesters_panel(client, rita, laptop):
    """Agents' names on tasks are for the desk; the requester reads the team only."""
    order = order_laptop(laptop, rita, answers={"model": "Standard 14-inch"})
    approval = pending_of(order)
    approval_decide_as_manager(approval)
    task = order.tasks.first()
    worker = UserFactory(first_name="Wanda", last_name="Worker", role=Role.AGENT)
    TeamMembershipFactory(team=task.team, user=worker)
    from opsdesk.catalog.services.fulfilment import task_assign

    task_assign(actor=worker, task=task, assignee=worker)
    client.force_login(rita)
    panel = client.get(order.ticket.get_absolute_url()).content.decode().split('id="request-panel"')[1]
    assert "Wanda Worker" not in panel.split("</section>")[0]


def approval_decide_as_manager(approval: Approval) -> None:
    from opsdesk.catalog.services.approvals import approval_decide

    approval_decide(actor=approval.approver, approval=approval, decision=Decision.APPROVE)


def test_the_inbox_costs_the_same_with_many_orders_waiting(client, rita, mia, acme, laptop):
    def inbox_queries() -> int:
        client.get(reverse("catalog:approvals"))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("catalog:approvals"))
        assert response.status_code == 200
        return len(captured.captured_queries)

    order_laptop(laptop, rita)
    client.force_login(mia)
    one = inbox_queries()
    for _ in range(8):
        order_laptop(laptop, UserFactory(organization=acme, manager=mia))
    decided = order_laptop(laptop, rita)
    client.post(
        reverse("catalog:approval", args=[pending_of(decided).pk]),
        {"decision": "reject", "comment": "Not now", "version": pending_of(decided).version},
    )
    assert inbox_queries() == one
    assert client.get(reverse("catalog:approvals")).content.decode().count("data-queue-row") == 9
