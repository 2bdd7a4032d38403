"""The portfolio in a real browser under the real CSP: an administrator builds a service with
offerings and a contract, reads its sheet and dependency graph; a requester finds it in the
portal with its support policy. Takes the documentation screenshots on the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.portfolio.choices import PolicyStatus, Stage
from opsdesk.portfolio.models import Offering, Service, ServiceDependency, SupportPolicy, SupportPolicyVersion
from tests.accounts.factories import LocationFactory, OrganizationFactory, UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in
from tests.portfolio.factories import CalendarFactory, ObjectiveFactory, ServiceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def _neighbourhood():
    """Services around the one the administrator creates, so the graph has something to show."""
    calendar = CalendarFactory(
        name="Berlin office hours",
        working_hours={
            **{day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [["09:00", "13:00"]],
            "sun": [],
        },
    )
    network = ServiceFactory(name="Corporate Network", type="technical")
    identity = ServiceFactory(name="Identity & Access", type="technical")
    hosting = ServiceFactory(name="Data Centre Hosting", type="technical")
    ServiceDependency.objects.create(service=identity, depends_on=hosting)
    ServiceDependency.objects.create(service=network, depends_on=hosting)
    portal = ServiceFactory(name="Self-service Portal")
    mobile = ServiceFactory(name="Mobile Devices", stage=Stage.PIPELINE)
    ObjectiveFactory(name="Work from anywhere")
    return calendar, portal, mobile


def test_admin_builds_a_service_and_a_requester_finds_it(page, live_server, screenshots_dir):
    admin = UserFactory(username="ada", first_name="Ada", role=Role.ADMIN)
    acme = OrganizationFactory(name="Acme Logistics")
    UserFactory(username="rita", first_name="Rita", role=Role.REQUESTER, organization=acme)
    berlin, london = LocationFactory(name="Berlin HQ"), LocationFactory(name="London Office")
    _calendar, portal_service, mobile = _neighbourhood()

    sign_in(page, live_server, "ada")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Add service").click()
    page.fill("input[name=name]", "Email & Calendar")
    page.fill(
        "textarea[name=description]",
        "Your mailbox, calendar and contacts, on every device, wherever you work.",
    )
    page.select_option("select[name=stage]", "catalogue")
    page.select_option("select[name=owner]", str(admin.pk))
    page.select_option("select[name=criticality]", "2")
    page.select_option("select[name=service_hours]", label="Berlin office hours")
    page.select_option(
        "select[name=depends_on]", label=["Corporate Network", "Identity & Access", "Data Centre Hosting"]
    )
    page.check("input[name=channels][value=portal]")
    page.check("input[name=channels][value=email]")
    page.check("input[name=channels][value=phone]")
    page.fill(
        "textarea[name=service_levels]", "Available 99.9% of business hours. P1 answered in 30 minutes."
    )
    page.fill("input[name=support_languages]", "en, de")
    page.get_by_role("button", name="Create service").click()
    page.wait_for_selector("h1:has-text('Email & Calendar')")
    sheet_url = page.url

    for name, cost, price, place in (
        ("Standard mailbox", "3.20", "4.50", berlin),
        ("Large mailbox", "6.00", "8.00", london),
    ):
        page.get_by_role("link", name="Add offering").click()
        page.fill("input[name=name]", name)
        page.fill("input[name=cost]", cost)
        page.fill("input[name=price]", price)
        page.select_option("select[name=locations]", label=[place.name])
        page.get_by_role("button", name="Create offering").click()
        page.wait_for_url(f"{sheet_url}#offerings")
    assert Offering.objects.filter(service__name="Email & Calendar").count() == 2

    page.goto(f"{live_server.url}/portfolio/providers/add/")
    page.fill("input[name=name]", "Contoso Cloud")
    page.select_option("select[name=kind]", "cloud")
    page.select_option("select[name=services]", label=["Email & Calendar"])
    page.get_by_role("button", name="Create provider").click()
    page.get_by_role("link", name="Add contract").click()
    page.fill("input[name=reference]", "CC-2025-014")
    page.fill("input[name=start_date]", "2025-01-01")
    page.fill("input[name=end_date]", (timezone.localdate() + timedelta(days=400)).isoformat())
    page.fill("input[name=cost]", "18000")
    page.select_option("select[name=services]", label=["Email & Calendar"])
    page.get_by_role("button", name="Create contract").click()
    page.wait_for_selector("#notice-date")
    assert_no_csp_violations(page)

    # A published support policy, as the service desk manager would have written it.
    policy = SupportPolicy.objects.create(name="Standard support")
    page_service = Service.objects.get(name="Email & Calendar")
    policy.services.add(page_service, portal_service)
    SupportPolicyVersion.objects.create(
        policy=policy,
        number=1,
        status=PolicyStatus.PUBLISHED,
        effective_from=timezone.localdate() - timedelta(days=30),
        support_hours="Monday to Friday, 08:00 to 18:00 (Berlin time), except public holidays.",
        coverage="Access, sending and receiving mail, calendars and sharing. Not covered: personal devices.",
        priority_definitions="Urgent: you cannot work at all — we start within 30 minutes. "
        "Normal: something is awkward — within one working day.",
        escalation_rules="Not solved in time? Reply to your request and ask for the duty manager.",
    )
    ServiceDependency.objects.create(service=portal_service, depends_on=page_service)
    ServiceDependency.objects.create(service=mobile, depends_on=page_service)

    page.goto(sheet_url)
    assert page.locator("#offerings").get_by_text("Standard mailbox").is_visible()
    assert page.locator("#providers").get_by_text("CC-2025-014").is_visible()
    assert page.locator("#policies").get_by_text("Standard support").is_visible()
    page.screenshot(path=str(screenshots_dir / "portfolio-service-sheet.png"), full_page=True)
    assert_no_csp_violations(page)

    page.get_by_role("link", name="Dependency graph", exact=True).click()
    graph = page.locator("#dependency-graph")
    graph.wait_for()
    assert graph.locator("a.graph-node").count() == 6
    assert graph.locator("a.graph-node-center").count() == 1
    page.screenshot(path=str(screenshots_dir / "portfolio-dependency-graph.png"), full_page=True)
    assert_no_csp_violations(page)

    page.goto(f"{live_server.url}/portfolio/costs/")
    page.wait_for_function("document.querySelector('canvas[data-cost-chart]').width > 0")
    assert page.get_by_role("cell", name="Email & Calendar").first.is_visible()
    page.screenshot(path=str(screenshots_dir / "portfolio-costs.png"), full_page=True)
    assert_no_csp_violations(page)

    page.context.clear_cookies()
    sign_in(page, live_server, "rita")
    page.wait_for_url(f"{live_server.url}/portal/")
    card = page.locator("article", has_text="Email & Calendar")
    assert card.is_visible()
    assert "Ask for help by: Portal, E-mail, Phone" in card.inner_text()
    card.locator("summary").click()
    assert card.get_by_text("ask for the duty manager").is_visible()
    assert page.locator("article", has_text="Mobile Devices").count() == 0
    assert page.locator("article", has_text="Data Centre Hosting").count() == 0  # technical
    page.screenshot(path=str(screenshots_dir / "portfolio-portal-services.png"), full_page=True)
    card.get_by_role("link", name="More about Email & Calendar").click()
    page.wait_for_selector("h1:has-text('Email & Calendar')")
    body = page.locator("main").inner_text()
    assert "What to expect from us" in body and "Standard mailbox" in body
    assert "4.50" not in body and "CC-2025-014" not in body
    assert_no_csp_violations(page)
