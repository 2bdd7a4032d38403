"""The main journeys of an agent and a requester, in a real browser, under the real CSP."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from tests.accounts.factories import (
    PASSWORD,
    OrganizationFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def assert_no_csp_violations(page) -> None:
    problems = [
        text for text in page.console_errors if "Content Security Policy" in text or "Refused" in text
    ]
    assert problems == [], problems
    assert page.console_errors == [], page.console_errors


def test_agent_signs_in_and_sees_the_agent_home(page, live_server, screenshots_dir):
    it = OrganizationFactory(name="IT department")
    agent = UserFactory(
        username="anna", first_name="Anna", last_name="Berg", role=Role.AGENT, organization=it
    )
    team = TeamFactory(name="Service desk", lead=agent)
    TeamMembershipFactory(team=team, user=agent)
    TeamMembershipFactory(team=team, user__first_name="Ben", user__organization=it)

    sign_in(page, live_server, "anna")

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Hello, Anna"
    assert page.locator("#teams-heading").is_visible()
    assert page.get_by_role("link", name="Service desk").first.is_visible()
    assert page.locator("#my-availability").inner_text().endswith("Available")
    assert "2 members" in page.get_by_role("region", name="Your teams").inner_text()
    page.screenshot(path=str(screenshots_dir / "agent-home.png"), full_page=True)
    assert_no_csp_violations(page)


def test_requester_signs_in_and_sees_the_portal(page, live_server, screenshots_dir):
    acme = OrganizationFactory(name="Acme Logistics")
    UserFactory(username="rita", first_name="Rita", last_name="Lang", role=Role.REQUESTER, organization=acme)

    sign_in(page, live_server, "rita")

    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.locator("h1").inner_text() == "Hello, Rita"
    assert page.get_by_text("Update your details").is_visible()
    assert page.get_by_text("Acme Logistics: who it is and where it sits.").is_visible()
    # A requester's navigation offers nothing they would be refused.
    assert page.locator("#sidebar").get_by_text("Teams").count() == 0
    page.screenshot(path=str(screenshots_dir / "portal-home.png"), full_page=True)
    assert_no_csp_violations(page)


def test_agent_finds_a_person_with_the_global_search(page, live_server):
    UserFactory(username="anna", first_name="Anna", role=Role.AGENT)
    UserFactory(username="zoe.winter", first_name="Zoe", last_name="Winter", email="zoe@example.com")

    sign_in(page, live_server, "anna")
    page.wait_for_url(f"{live_server.url}/")
    # "/" focuses the search box from anywhere on the page (app.js).
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.type("Winter")
    page.keyboard.press("Enter")

    page.wait_for_url("**/search/?q=Winter")
    result = page.locator("#search-results").get_by_role("link", name="Zoe Winter <zoe@example.com>")
    result.click()
    page.wait_for_url("**/people/users/*/")
    assert page.locator("h1").inner_text() == "Zoe Winter"
    assert_no_csp_violations(page)


def test_failed_sign_in_says_what_went_wrong(page, live_server):
    UserFactory(username="anna", role=Role.AGENT)

    sign_in(page, live_server, "anna", password="not the password")

    error = page.locator("#login-error")
    error.wait_for()
    assert "do not match" in error.inner_text()
    assert page.url.endswith("/login/")
    assert_no_csp_violations(page)


def test_people_list_filters_in_place_with_htmx(page, live_server):
    UserFactory(username="anna", first_name="Anna", role=Role.AGENT)
    UserFactory(username="zoe", first_name="Zoe", last_name="Winter", role=Role.REQUESTER)

    sign_in(page, live_server, "anna")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/people/users/")
    page.select_option("#id_role", "requester")
    page.wait_for_url("**/people/users/?*role=requester*")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 1
    assert "Zoe Winter" in rows.first.inner_text()
    assert_no_csp_violations(page)
