"""Desk settings in a real browser under the real CSP: a manager writes a routing rule in the
rule editor (picking a condition redraws its settings), and the next ticket is routed by it."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.tickets import services
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.models import RoutingRule, TimelineEvent
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_manager_writes_a_routing_rule_and_the_next_ticket_follows_it(page, live_server):
    it = OrganizationFactory(name="IT department")
    UserFactory(username="mia", first_name="Mia", last_name="Stone", role=Role.MANAGER, organization=it)
    agent = UserFactory(
        username="anna", first_name="Anna", last_name="Berg", role=Role.AGENT, organization=it
    )
    rita = UserFactory(username="rita", role=Role.REQUESTER, organization=OrganizationFactory(name="Acme"))
    network = TeamFactory(name="Network", tier="L2")
    TeamMembershipFactory(team=network, user=agent)

    sign_in(page, live_server, "mia")
    page.goto(f"{live_server.url}/tickets/")
    page.get_by_role("link", name="Desk settings").click()
    page.get_by_role("link", name="Routing rules").click()
    page.get_by_role("link", name="Add routing rule").click()
    page.fill("#id_name", "VPN goes to the network team")
    # Picking a condition redraws the form with that condition's own settings, once the editor's
    # script has set up (it hides the no-JavaScript button): picking before that redrew nothing.
    page.wait_for_selector("[data-refresh-button]", state="hidden")
    page.select_option("#id_c-0-name", "words")
    page.wait_for_selector("#id_c-0-any")
    page.fill("#id_c-0-any", "vpn, tunnel")
    page.select_option("#id_team", label="Network (L2)")
    page.select_option("#id_priority", "2")
    page.get_by_role("button", name="Create the rule").click()
    page.wait_for_selector("text=VPN goes to the network team saved.")
    rule = RoutingRule.objects.get(name="VPN goes to the network team")
    assert rule.conditions == [{"name": "words", "params": {"any": ["tunnel", "vpn"]}}]

    ticket = services.ticket_create(actor=rita, title="The VPN drops every hour")
    ticket.refresh_from_db()
    assert ticket.assigned_team == network and ticket.priority == 2
    assert TimelineEvent.objects.filter(ticket=ticket, kind=EventKind.ROUTING).exists()

    page.goto(f"{live_server.url}/tickets/settings/rules/?ticket={ticket.number}")
    page.wait_for_selector("text=would apply")
    page.goto(f"{live_server.url}/tickets/workload/")
    page.wait_for_selector("canvas[data-workload-chart]")
    assert_no_csp_violations(page)
