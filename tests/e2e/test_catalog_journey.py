"""The request catalogue end to end in a real browser, under the real CSP, with the approval
e-mail taken from a real SMTP server: a requester orders a laptop whose form has a conditional
question, her manager approves from the e-mail's link without signing in, two teams each work
their fulfilment task in parallel from their queue, and the requester rates the fulfilled
request."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApprovalState, ApproverKind, RequestState, TaskState
from opsdesk.catalog.models import ApprovalStep, CatalogRequest, TaskTemplate
from opsdesk.tickets.choices import ResolutionCode, Status
from opsdesk.tickets.models import Survey
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.catalog.factories import LAPTOP_FORM, CatalogCategoryFactory, CatalogItemFactory
from tests.core.test_jobs_and_scheduler import run_queued_tasks
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp")
APPROVAL_LINK = re.compile(r"https?://\S+/catalog/approve/\S+/")


def new_page(browser):
    """Another person's browser: a fresh context (no shared sign-in) collecting console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


def expect_refusal_logged(page, status: int) -> None:
    """The browser logs a refused page (400, 410) as a console error: expected once, then cleared
    so that any other error still fails the journey."""
    refusals = [text for text in page.console_errors if f"status of {status}" in text]
    assert len(refusals) == 1, page.console_errors
    page.console_errors.remove(refusals[0])


def approval_link_from(server, recipient: str) -> str:
    """The Approve link of the approval e-mail sent to ``recipient`` (plain-text part)."""
    mails = [m for m in server.messages if recipient in m["To"] and "Approval needed" in m["Subject"]]
    assert len(mails) == 1, [m["Subject"] for m in server.messages]
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    approve, _reject = APPROVAL_LINK.findall(text)
    return approve


def work_task(browser, live_server, username: str, task_name: str) -> None:
    """An agent opens the team queue, opens their task, starts it and completes it."""
    agent = new_page(browser)
    sign_in(agent, live_server, username)
    agent.wait_for_url(f"{live_server.url}/")
    agent.goto(f"{live_server.url}/catalog/tasks/")
    row = agent.locator("[data-queue-row]", has_text=task_name)
    assert row.count() == 1, agent.inner_text("#results")
    assert agent.locator("[data-queue-row]").count() == 1  # the other team's task is not in this queue
    row.locator("a.queue-link").click()
    agent.get_by_role("button", name=re.compile(r"^Start")).click()
    agent.locator("#complete-form").wait_for()
    agent.locator("#complete-form textarea").fill(f"{task_name}: done.")
    agent.locator("#complete-form").get_by_role("button", name=re.compile(r"^Complete")).click()
    agent.wait_for_load_state()
    assert_no_csp_violations(agent)
    agent.context.close()


def test_order_approve_by_mail_fulfil_in_two_teams_and_rate(
    browser, page, live_server, smtp_server, settings
):
    settings.SITE_URL = live_server.url  # the e-mail's links point at this server
    acme = OrganizationFactory(name="Acme")
    mia = UserFactory(
        username="mia", first_name="Mia", last_name="Manager", email="mia@acme.test", organization=acme
    )
    UserFactory(username="rita", first_name="Rita", last_name="Lang", organization=acme, manager=mia)
    desk, stores = TeamFactory(name="Desk"), TeamFactory(name="Stores")
    for username, first, team in (("dan", "Dan", desk), ("sue", "Sue", stores)):
        agent = UserFactory(username=username, first_name=first, role=Role.AGENT, organization=acme)
        TeamMembershipFactory(team=team, user=agent)
    laptop = CatalogItemFactory(
        name="New laptop",
        slug="new-laptop",
        category=CatalogCategoryFactory(name="Hardware", slug="hardware"),
        summary="A laptop for your work",
        description="Comes with a bag and a **docking station**.",
        price=Decimal("1450.00"),
        delivery_days=5,
        form=LAPTOP_FORM,
        fulfilment_team=desk,
    )
    ApprovalStep.objects.create(item=laptop, position=1, kind=ApproverKind.MANAGER, name="Manager")
    TaskTemplate.objects.create(item=laptop, stage=1, name="Image the laptop", team=desk)
    TaskTemplate.objects.create(item=laptop, stage=1, name="Hand out the laptop", team=stores)

    # --- Rita orders: the reason appears for the performance model and is then required ---------
    sign_in(page, live_server, "rita")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.goto(f"{live_server.url}/catalog/")
    page.screenshot(path=str(SHOTS / "catalog_browse.png"), full_page=True)
    page.get_by_role("link", name="New laptop").click()
    page.wait_for_url(f"{live_server.url}/catalog/new-laptop/")
    assert "Your manager, Mia Manager" in page.inner_text("#item-approvers")
    assert "Expected by" in page.inner_text("#item-expected")
    reason = page.get_by_label("Why the performance model?")
    assert reason.is_hidden()
    page.locator("#id_model").select_option("Performance 16-inch")
    reason.wait_for(state="visible")
    page.screenshot(path=str(SHOTS / "catalog_item.png"), full_page=True)
    page.get_by_role("button", name="Place the order").click()
    page.locator(".invalid-feedback").first.wait_for()
    assert not CatalogRequest.objects.exists()
    assert page.get_by_label("Why the performance model?").is_visible()  # still shown after the refusal
    expect_refusal_logged(page, 400)
    page.get_by_label("Why the performance model?").fill("I edit video all day.")
    page.get_by_role("button", name="Place the order").click()
    page.locator("#request-panel").wait_for()
    order = CatalogRequest.objects.get()
    assert page.url == f"{live_server.url}{order.ticket.get_absolute_url()}"
    assert order.answers == {"model": "Performance 16-inch", "reason": "I edit video all day."}
    assert "Waiting for approval" in page.inner_text("#request-words")
    assert_no_csp_violations(page)

    # --- Mia approves from the e-mail's link, without signing in ------------------------------------
    run_queued_tasks()
    link = approval_link_from(smtp_server, "mia@acme.test")
    approver = new_page(browser)
    approver.goto(link)
    assert "New laptop for Rita Lang" in approver.inner_text("h1")
    assert "I edit video all day." in approver.inner_text("#order-summary")
    assert approver.locator("#decision-approve").is_checked()
    approver.get_by_label("Comment").fill("Enjoy the new laptop.")
    approver.screenshot(path=str(SHOTS / "catalog_approval_link.png"), full_page=True)
    approver.get_by_role("button", name="Send my decision").click()
    approver.locator("#link-done").wait_for()
    assert "You approved" in approver.inner_text("#link-done")
    approver.goto(link)  # the link works once
    assert "already decided" in approver.inner_text("#link-error")
    expect_refusal_logged(approver, 410)
    assert_no_csp_violations(approver)
    approver.context.close()
    order.refresh_from_db()
    assert order.state == RequestState.IN_FULFILMENT
    assert order.approvals.get().state == ApprovalState.APPROVED
    assert sorted(order.tasks.values_list("state", flat=True)) == [TaskState.OPEN, TaskState.OPEN]

    page.reload()
    assert "Approved and being prepared: 0 of 2 tasks done." in page.inner_text("#request-words")
    assert "Enjoy the new laptop." in page.inner_text("#request-approvals")

    # --- two teams work their task in parallel, each from its own queue ----------------------------
    work_task(browser, live_server, "dan", "Image the laptop")
    page.reload()
    assert "1 of 2 tasks done" in page.inner_text("#request-words")
    work_task(browser, live_server, "sue", "Hand out the laptop")
    order.refresh_from_db()
    assert order.state == RequestState.FULFILLED
    assert order.ticket.status == Status.RESOLVED and order.ticket.resolution_code == ResolutionCode.FULFILLED

    # --- Rita sees it delivered and rates it --------------------------------------------------------
    page.reload()
    assert "Delivered" in page.inner_text("#request-words")
    page.locator("#request-panel").screenshot(path=str(SHOTS / "catalog_panel.png"))
    page.locator("label[for=rating-5]").click()
    page.get_by_role("button", name="Send my rating").click()
    page.wait_for_selector("text=Thank you for your rating.")
    assert Survey.objects.get(ticket=order.ticket).rating == 5
    assert_no_csp_violations(page)
