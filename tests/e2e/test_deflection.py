"""Deflection in a real browser under the real CSP: a requester describes a problem in the
portal's new-ticket form, a matching public article appears, they open it, find it helpful,
click "This solved my problem", and no ticket is raised."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.knowledge.choices import Audience
from opsdesk.knowledge.models import Article, Deflection
from opsdesk.tickets.models import Ticket
from tests.accounts.factories import UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in
from tests.knowledge.factories import make_article

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_requester_solves_their_problem_with_a_suggested_article(page, live_server, screenshots_dir):
    rita = UserFactory(username="rita", first_name="Rita", role=Role.REQUESTER)
    anna = UserFactory(username="anna", first_name="Anna", role=Role.AGENT)
    article = make_article(
        anna,
        title="Reset a forgotten password",
        body="1. Open the self-service page.\n2. Choose **Forgot password** and follow the e-mail.",
        tags=["password", "login"],
    )
    make_article(anna, title="Password policy for admins", body="Internal rules", audience=Audience.INTERNAL)

    sign_in(page, live_server, "rita")
    page.goto(f"{live_server.url}/tickets/new/")
    page.fill("#id_title", "I forgot my password")
    suggestion = page.locator("#kb-suggest a.kb-suggestion")
    suggestion.first.wait_for()
    assert suggestion.count() == 1
    assert suggestion.first.inner_text() == "Reset a forgotten password"
    page.screenshot(path=str(screenshots_dir / "kb-deflection-suggestions.png"))

    suggestion.first.click()
    page.wait_for_selector("text=Did this solve your problem?")
    assert "self-service page" in page.inner_text(".kb-body")
    page.click("button:has-text('Helpful')")
    page.wait_for_selector("text=Thank you for your feedback.")
    page.click("button:has-text('This solved my problem')")
    page.wait_for_selector("text=Glad that solved it")
    page.screenshot(path=str(screenshots_dir / "kb-deflection-thanks.png"))

    assert not Ticket.objects.exists()
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article, deflection.query) == (rita, article, "I forgot my password")
    article = Article.objects.get(pk=article.pk)
    assert (article.helpful_count, article.deflection_count) == (1, 1)
    assert_no_csp_violations(page)
