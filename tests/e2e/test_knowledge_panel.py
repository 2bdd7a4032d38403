"""The agent's knowledge panel in a real browser under the real CSP: suggested articles and
similar resolved tickets load into the ticket page after it is shown, and one click links a
suggestion."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.core import search
from opsdesk.knowledge.models import TicketArticle
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services.lifecycle import ticket_create
from tests.accounts.factories import UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in
from tests.knowledge.factories import make_article

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_an_agent_sees_suggestions_load_into_the_ticket_panel_and_links_one(page, live_server):
    UserFactory(username="rita", first_name="Rita", role=Role.REQUESTER)
    anna = UserFactory(username="anna", first_name="Anna", role=Role.AGENT)
    article = make_article(anna, title="VPN drops every hour", body="Renew the VPN certificate.")
    old = ticket_create(actor=anna, title="VPN drops after an hour", requester=anna)
    Ticket.objects.filter(pk=old.pk).update(status="resolved")
    search.index_objects(Ticket, [old.pk])
    ticket = ticket_create(actor=anna, title="My VPN drops", requester=anna)

    sign_in(page, live_server, "anna")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    page.locator("#kb-suggested a", has_text="VPN drops every hour").wait_for()
    assert old.number in page.inner_text("#kb-similar")
    page.locator("#kb-suggested button:has-text('Link')").first.click()
    page.locator("#kb-linked a", has_text="VPN drops every hour").wait_for()
    page.locator("#kb-similar").wait_for()  # the reloaded page's panel has loaded too
    assert "VPN drops every hour" not in page.inner_text("#kb-suggested")  # linked: no longer suggested
    assert TicketArticle.objects.filter(ticket=ticket, article=article).exists()
    assert_no_csp_violations(page)
