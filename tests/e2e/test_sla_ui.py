"""Service levels in a real browser under the real CSP: a manager creates an SLA policy with a
target on its screens; an agent opens a ticket it covers and reads the SLA panel."""

from __future__ import annotations

import os

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.sla.models import SlaPolicy
from opsdesk.tickets import services
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in
from tests.portfolio.factories import CalendarFactory
from tests.sla.factories import ALWAYS

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_up_an_sla_and_an_agent_sees_it_on_the_ticket(page, live_server, screenshots_dir):
    it = OrganizationFactory(name="IT department")
    UserFactory(username="mona", first_name="Mona", role=Role.MANAGER, organization=it)
    agent = UserFactory(username="anna", first_name="Anna", role=Role.AGENT, organization=it)
    requester = UserFactory(username="rita", first_name="Rita", role=Role.REQUESTER)
    TeamMembershipFactory(team=TeamFactory(name="Service desk"), user=agent)
    CalendarFactory(name="Around the clock", working_hours=ALWAYS, time_zone="UTC")

    sign_in(page, live_server, "mona")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Service levels", exact=True).click()
    page.wait_for_selector("text=No service-level policy yet")
    page.get_by_role("link", name="Add SLA policy").click()
    page.fill("input[name=name]", "Standard support")
    page.select_option("select[name=kind]", "sla")
    page.select_option("select[name=calendar]", label="Around the clock")
    page.fill("input[name=thresholds]", "50, 80")
    page.get_by_role("button", name="Create SLA policy").click()
    page.wait_for_selector("h1:has-text('Standard support')")
    page.get_by_role("link", name="Add a target").click()
    page.select_option("select[name=metric]", "resolution")
    page.fill("input[name=minutes]", "480")
    page.get_by_role("button", name="Create SLA target").click()
    page.wait_for_selector("#targets td:has-text('8h')")
    policy = SlaPolicy.objects.get(name="Standard support")
    assert policy.thresholds == [50, 80, 100] and policy.targets.get().minutes == 480
    assert_no_csp_violations(page)

    ticket = services.ticket_create(actor=requester, title="Laptop will not start")
    page.context.clear_cookies()
    sign_in(page, live_server, "anna")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    panel = page.locator("#sla")
    panel.wait_for()
    assert "Standard support" in panel.inner_text()
    assert "Resolution" in panel.inner_text() and "left" in panel.inner_text()
    assert panel.locator("dt:has-text('Due') + dd time").count() == 1
    panel.locator("summary").click()
    assert panel.locator(".sla-segment").first.is_visible()
    assert_no_csp_violations(page)
    if os.environ.get("OPSDESK_SCREENSHOTS") == "1":
        panel.screenshot(path=str(screenshots_dir / "sla-ticket-panel.png"))
