"""The service desk in a real browser under the real CSP: a requester reports a problem, an
agent triages, assigns, replies and resolves it, the requester reads the answer and rates it;
an agent merges two duplicates; a bulk reassignment. Takes the documentation screenshots."""

from __future__ import annotations

import re

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import CannedResponse, Survey, Ticket
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in
from tests.portfolio.factories import ServiceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def _people():
    acme, it = OrganizationFactory(name="Acme Logistics"), OrganizationFactory(name="IT department")
    rita = UserFactory(
        username="rita", first_name="Rita", last_name="Lang", role=Role.REQUESTER, organization=acme
    )
    anna = UserFactory(username="anna", first_name="Anna", last_name="Berg", role=Role.AGENT, organization=it)
    ben = UserFactory(username="ben", first_name="Ben", last_name="Okafor", role=Role.AGENT, organization=it)
    desk = TeamFactory(name="Service desk")
    network = TeamFactory(name="Network", tier="L2")
    TeamMembershipFactory(team=desk, user=anna)
    TeamMembershipFactory(team=desk, user=ben)
    TeamMembershipFactory(team=network, user=ben)
    return rita, anna, ben, desk, network


def _second_page(browser):
    """Another person's browser, collecting its console errors like the ``page`` fixture."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    other = context.new_page()
    other.console_errors = []
    other.on("console", lambda message: message.type == "error" and other.console_errors.append(message.text))
    other.on("pageerror", lambda error: other.console_errors.append(str(error)))
    return context, other


def test_a_reported_problem_is_triaged_answered_resolved_and_rated(
    page, browser, live_server, screenshots_dir
):
    rita, anna, _ben, desk, _network = _people()
    ServiceFactory(name="Email & Calendar")
    ServiceFactory(name="Laptops and phones")
    ServiceFactory(name="Core network", type="technical")
    CannedResponse.objects.create(
        title="Outlook restart",
        body="Please close Outlook completely and open it again. Tell us if the message persists.",
        team=desk,
    )
    services.problem_create(
        actor=anna,
        title="Outlook shows 'Disconnected' after the relay certificate renewal",
        root_cause="The mail relay presents the old certificate to some clients.",
        workaround="Restart Outlook; it picks up the new certificate.",
        known_error=True,
    )

    # The requester reports it in plain words, with a screenshot.
    requester_context, requester = _second_page(browser)
    sign_in(requester, live_server, "rita")
    requester.goto(f"{live_server.url}/tickets/new/?type=incident")
    requester.select_option("select[name=service]", label="Email & Calendar")
    assert "Core network" not in requester.locator("select[name=service]").inner_text()
    requester.fill("input[name=title]", "Outlook says Disconnected")
    requester.fill(
        "textarea[name=description]", "Since this morning Outlook shows *Disconnected* in the corner."
    )
    requester.select_option("select[name=impact]", "2")
    requester.select_option("select[name=urgency]", "1")
    requester.screenshot(path=str(screenshots_dir / "tickets-portal-form.png"), full_page=True)
    requester.set_input_files(
        "input[name=attachment]",
        files=[{"name": "screen.txt", "mimeType": "text/plain", "buffer": b"Disconnected"}],
    )
    requester.get_by_role("button", name="Send to IT").click()
    requester.wait_for_selector("text=we have your ticket")
    number = Ticket.objects.get(title="Outlook says Disconnected").number
    assert "We've got it" in requester.locator("#ticket-status").inner_text()

    # Others have written in too.
    for title, impact in (
        ("Printer on floor 3 jams", 3),
        ("New starter needs a laptop", 3),
        ("VPN drops at home", 2),
    ):
        services.ticket_create(actor=UserFactory(organization=rita.organization), title=title, impact=impact)

    # The agent finds it in triage with the keyboard (the most urgent is first) and opens it.
    sign_in(page, live_server, "anna")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Triage").first.click()
    page.wait_for_selector(f"text={number}")
    page.screenshot(path=str(screenshots_dir / "tickets-queue.png"), full_page=True)
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(f"/tickets/{number}/$"))
    page.wait_for_selector("#known-errors-results a:has-text('PRB')")

    # Assign: the team first, then an agent of that team.
    page.keyboard.press("a")
    page.select_option("#assign select[name=team]", label="Service desk (L1)")
    page.wait_for_selector(f"#id_assignee option:has-text('{anna.first_name}')", state="attached")
    page.select_option("#id_assignee", label=str(anna))
    page.locator("#assign").get_by_role("button", name="Assign").click()
    page.wait_for_selector("text=assigned to Anna Berg")

    # Link the known error, reply with the canned response, resolve.
    page.locator("#known-errors-results").get_by_role("button", name="Link to this ticket").click()
    page.wait_for_selector("text=is linked to PRB")
    page.keyboard.press("r")
    page.select_option("#canned-select", label="Outlook restart (Service desk)")
    assert "close Outlook completely" in page.input_value("#id_body")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_selector("text=Reply sent.")
    page.keyboard.press("n")
    page.fill("#id_body", "Relay certificate again — see the known error.")
    page.get_by_role("button", name="Add internal note").click()
    page.wait_for_selector("text=Note added.")
    resolve = page.locator("form.move-form", has=page.get_by_role("button", name="Resolve"))
    resolve.locator("select[name=resolution_code]").select_option("workaround")
    resolve.locator("textarea[name=resolution_notes]").fill(
        "Restarting Outlook picked up the new certificate."
    )
    resolve.get_by_role("button", name="Resolve").click()
    page.wait_for_selector(f"text={number} is now resolved.")
    page.screenshot(path=str(screenshots_dir / "tickets-agent-ticket.png"), full_page=True)
    assert_no_csp_violations(page)

    # The requester sees the reply (not the note) and rates it.
    requester.goto(f"{live_server.url}/tickets/{number}/")
    body = requester.locator("main").inner_text()
    assert "close Outlook completely" in body and "Relay certificate again" not in body
    assert "Solved" in requester.locator("#ticket-status").inner_text()
    requester.locator("label[for=rating-5]").click()
    requester.fill("textarea[name=comment]", "Fixed in minutes, thank you!")
    requester.get_by_role("button", name="Send my rating").click()
    requester.wait_for_selector("text=Thank you for your rating.")
    requester.screenshot(path=str(screenshots_dir / "tickets-requester-ticket.png"), full_page=True)
    assert Survey.objects.get(ticket__number=number).rating == 5
    assert_no_csp_violations(requester)
    requester_context.close()


def test_an_agent_merges_two_duplicates(page, live_server):
    rita, _anna, _ben, _desk, _network = _people()
    first = services.ticket_create(actor=rita, title="VPN keeps dropping")
    second = services.ticket_create(actor=rita, title="VPN disconnects every few minutes")
    services.ticket_reply(actor=rita, ticket=second, body="It happens at home and in the office.")

    sign_in(page, live_server, "anna")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tickets/{second.number}/")
    page.locator("#related summary").click()
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("input[name=merge-number]", first.number)
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_url(re.compile(f"/tickets/{first.number}/$"))
    page.wait_for_selector(f"text={second.number} merged into {first.number}.")
    assert "It happens at home and in the office." in page.locator("main").inner_text()
    second.refresh_from_db()
    assert second.duplicate_of_id == first.pk and second.status == Status.RESOLVED
    assert_no_csp_violations(page)


def test_a_bulk_reassignment_from_the_team_queue(page, live_server):
    rita, anna, ben, desk, network = _people()
    tickets = []
    for title in ("Switch port dead in room 4", "Wi-Fi slow on floor 2", "Cannot reach the file server"):
        ticket = services.ticket_create(actor=rita, title=title)
        services.ticket_assign(actor=anna, ticket=ticket, team=desk, assignee=anna)
        tickets.append(ticket)

    sign_in(page, live_server, "anna")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tickets/queue/team/")
    page.wait_for_selector("text=Wi-Fi slow on floor 2")
    # The first two rows go to the network team, to Ben.
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.select_option("[data-bulk-action]", "assign")
    page.select_option("#bulk-team", label="Network")
    page.select_option("#bulk-assignee", label=str(ben))
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_selector("text=Done for 2 tickets")
    assert Ticket.objects.filter(assigned_team=network, assignee=ben).count() == 2
    assert Ticket.objects.filter(assigned_team=desk, assignee=anna).count() == 1
    assert_no_csp_violations(page)
