"""The ticket pages with the knowledge panel, and the panel's suggestions fragment, run a fixed
number of queries: 30 articles, 30 linked articles and 30 similar resolved tickets cost no more
than 3 of each."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opsdesk.core import search
from opsdesk.knowledge import services
from opsdesk.knowledge.choices import Audience
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services.lifecycle import ticket_create
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db

# Ceilings that catch a gross regression; the real check is that the count does not grow. The
# suggestions fragment runs two searches of the global search (each counts every kind).
AGENT_PAGE_CEILING = 30
REQUESTER_PAGE_CEILING = 20
SUGGESTIONS_CEILING = 80


def ticket_with_knowledge(people, size: int, tag: str) -> Ticket:
    """A ticket with ``size`` matching articles (every other one linked, a third internal) and
    ``size`` similar resolved tickets."""
    ticket = ticket_create(actor=people.requester, title=f"VPN {tag} drops")
    for n in range(size):
        audience = Audience.INTERNAL if n % 3 == 0 else Audience.PUBLIC
        article = make_article(
            people.agent,
            title=f"VPN {tag} drops fix {n}",
            body=f"When the VPN {tag} drops ({n}).",
            audience=audience,
        )
        if n % 2 == 0:
            services.ticket_article_link(actor=people.agent, ticket=ticket, article=article)
        other = ticket_create(actor=people.requester, title=f"VPN {tag} drops again {n}")
        Ticket.objects.filter(pk=other.pk).update(status="resolved")
        search.index_objects(Ticket, [other.pk])  # update() bypasses save()
    return ticket


def queries_of_page(client, user, ticket: Ticket, url: str = "") -> tuple[int, str]:
    client.force_login(user)
    url = url or reverse("tickets:detail", args=[ticket.number])
    client.get(url)  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode()


def unmarked(page: str) -> str:
    """The page without the search's highlights."""
    return page.replace("<mark>", "").replace("</mark>", "")


def suggestions_url(ticket: Ticket) -> str:
    return f"{reverse('knowledge:suggest')}?ticket={ticket.number}"


def test_the_agent_ticket_page_does_not_grow_with_articles_or_links(
    client, people, django_assert_max_num_queries
):
    small = ticket_with_knowledge(people, 3, "alpha")
    large = ticket_with_knowledge(people, 30, "bravo")
    baseline, page = queries_of_page(client, people.agent, small)
    assert "VPN alpha drops fix 0" in page and "VPN alpha drops fix 2" in page  # linked
    assert baseline <= AGENT_PAGE_CEILING
    client.force_login(people.agent)
    with django_assert_max_num_queries(baseline):
        page = client.get(reverse("tickets:detail", args=[large.number])).content.decode()
    assert page.count('id="kb-link-article"') == 1
    assert "VPN bravo drops fix 28" in page  # one of the 15 linked articles
    assert suggestions_url(large) in page and "alpha" not in page


def test_the_panel_suggestions_do_not_grow_with_articles_or_similar_tickets(
    client, people, django_assert_max_num_queries
):
    small = ticket_with_knowledge(people, 3, "alpha")
    large = ticket_with_knowledge(people, 30, "bravo")
    baseline, fragment = queries_of_page(client, people.agent, small, suggestions_url(small))
    assert "VPN alpha drops fix 1" in fragment and "VPN alpha drops again" in fragment
    assert baseline <= SUGGESTIONS_CEILING
    with django_assert_max_num_queries(baseline):
        fragment = client.get(suggestions_url(large)).content.decode()
    assert fragment.count("VPN bravo drops fix") == 5  # unlinked ones only, five at most
    assert fragment.count("VPN bravo drops again") == 5
    assert "alpha" not in fragment


def test_the_requester_ticket_page_does_not_grow_with_linked_articles(
    client, people, django_assert_max_num_queries
):
    small = ticket_with_knowledge(people, 3, "alpha")
    large = ticket_with_knowledge(people, 30, "bravo")
    baseline, page = queries_of_page(client, people.requester, small)
    assert "VPN alpha drops fix 2" in page and "VPN alpha drops fix 0" not in page  # 0 is internal
    assert baseline <= REQUESTER_PAGE_CEILING
    client.force_login(people.requester)
    with django_assert_max_num_queries(baseline):
        page = client.get(reverse("tickets:detail", args=[large.number])).content.decode()
    assert "VPN bravo drops fix 28" in page and "VPN bravo drops fix 24" not in page  # 24 is internal
    assert "Similar resolved tickets" not in page


def test_the_search_page_loads_article_hits_by_what_it_shows(client, people, django_assert_max_num_queries):
    # A page of search hits loads its articles with the fields it shows (number and title:
    # search_index's shown_fields), not their text; nothing is then read article by article.
    from opsdesk.core.search import search_documents

    for n in range(3):
        make_article(people.agent, title=f"Toner cartridge {n}", body="Replace the toner cartridge.")
    url = f"{reverse('search')}?q=toner&type=article"
    baseline, page = queries_of_page(client, people.agent, None, url)
    assert "Toner cartridge 2" in unmarked(page)
    for n in range(3, 20):
        make_article(people.agent, title=f"Toner cartridge {n}", body="Replace the toner cartridge.")
    with django_assert_max_num_queries(baseline):
        page = client.get(url).content.decode()
    assert "Toner cartridge 19" in unmarked(page)
    hits = search_documents(user=people.agent, query="toner", kinds=("article",)).hits
    assert len(hits) == 20
    assert all({"body", "body_html"} <= hit.obj.get_deferred_fields() for hit in hits)
    assert all(hit.url == hit.obj.get_absolute_url() and hit.title.startswith("KB") for hit in hits)
