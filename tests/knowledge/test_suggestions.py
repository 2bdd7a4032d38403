"""Relevance of suggestions on a small fixed corpus, similar tickets, the gaps report, and bad
input that must give sensible results, never an error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.knowledge import matching, selectors, services
from opsdesk.knowledge.choices import ArticleStatus
from opsdesk.tickets.models import Category, Ticket
from opsdesk.tickets.services.lifecycle import ticket_create
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db

CORPUS = [
    (
        "Reset your password",
        "Use the self-service portal to reset a forgotten password.",
        ["account", "login"],
    ),
    ("Connect to the VPN from home", "Install the VPN client and sign in with your token.", ["remote"]),
    (
        "Add a network printer",
        "Open Settings, Printers, Add printer and pick the floor printer.",
        ["printing"],
    ),
    ("Outlook does not start", "Start Outlook in safe mode and disable add-ins.", ["email", "outlook"]),
    ("Request a new laptop", "Order laptops through the catalogue; delivery takes five days.", ["hardware"]),
    ("Share a calendar in Outlook", "Right-click the calendar, choose Share, add colleagues.", ["calendar"]),
    ("Wi-Fi for guests", "Guests connect to the Guest network with the daily code.", ["wifi", "guest"]),
    ("Multi-factor authentication setup", "Scan the QR code with the authenticator app.", ["mfa", "login"]),
]
EXPECTED = [
    ("forgot my password", "Reset your password"),
    ("cannot connect vpn at home", "Connect to the VPN from home"),
    ("printer not printing", "Add a network printer"),
    ("outlook crashes when starting", "Outlook does not start"),
    ("need a new laptop", "Request a new laptop"),
    ("how do I share my calendar", "Share a calendar in Outlook"),
    ("guest wifi code", "Wi-Fi for guests"),
    ("login mfa authenticator", "Multi-factor authentication setup"),
    ("pass", "Reset your password"),  # typing: the last word is a prefix
]


@pytest.fixture
def corpus(people):
    return {
        title: make_article(people.agent, title=title, body=body, tags=tags) for title, body, tags in CORPUS
    }


@pytest.mark.parametrize(("query", "expected"), EXPECTED)
def test_expected_article_is_in_the_top_three(people, corpus, query, expected):
    titles = [hit.article.title for hit in selectors.suggest_articles(user=people.requester, query=query)]
    assert expected in titles[:3], titles


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a",
        '"unbalanced',
        "vpn AND (OR NOT",
        "pass* -word ^2 ~1 'x'",
        "%_%",
        "\\\\",
        "x" * 10_000,
        "vpn " * 5_000,
        "🙂 émoji ü ß",
        "'; DROP TABLE knowledge_article; --",
    ],
)
def test_any_query_gives_a_sensible_answer(client, people, corpus, query):
    hits = selectors.suggest_articles(user=people.requester, query=query)
    assert len(hits) <= 5
    client.force_login(people.requester)
    assert client.get(reverse("knowledge:suggest"), {"q": query}).status_code == 200
    assert client.get(reverse("knowledge:list"), {"q": query}).status_code == 200


def test_query_words_are_bounded_and_plain():
    assert matching.query_words('The "printers" AND (printing)*') == ["printer", "print"]
    assert len(matching.query_words(" ".join(f"word{n}x" for n in range(100)))) == 12
    assert matching.query_words("the and of") == []


def test_similar_resolved_tickets_share_words_or_category_and_are_restricted(people, corpus):
    category = Category.objects.create(name="Email")
    old = ticket_create(actor=people.requester, title="Outlook keeps crashing", category=category)
    other = ticket_create(actor=people.requester, title="Calendar sharing broken", category=category)
    unrelated = ticket_create(actor=people.requester, title="Printer jam")
    open_one = ticket_create(actor=people.requester, title="Outlook crashing again")
    Ticket.objects.filter(pk__in=[old.pk, other.pk, unrelated.pk]).update(status="resolved")
    current = ticket_create(actor=people.requester, title="Outlook crashing on start", category=category)
    similar = selectors.similar_resolved_tickets(user=people.agent, ticket=current)
    assert similar[0] == old and other in similar
    assert unrelated not in similar and open_one not in similar
    assert selectors.similar_resolved_tickets(user=people.other_agent, ticket=current)[0] == old


def test_gaps_report_finds_busy_categories_and_words_without_articles_and_poor_articles(people, corpus):
    vpn_category = Category.objects.create(name="Remote access")
    printers = Category.objects.create(name="Printers")
    corpus["Add a network printer"].categories.add(printers)
    for n in range(5):
        ticket_create(actor=people.requester, title=f"Scanner driver missing {n}", category=vpn_category)
        ticket_create(actor=people.requester, title=f"Printer offline {n}", category=printers)
    poor = corpus["Request a new laptop"]
    for n in range(5):
        voter = type(people.requester).objects.create(username=f"voter{n}")
        services.article_feedback_set(actor=voter, article=poor, helpful=n == 0)
    report = selectors.knowledge_gaps(user=people.manager)
    assert [(gap.category.name, gap.tickets) for gap in report.categories] == [("Remote access", 5)]
    words = {gap.word: gap.tickets for gap in report.words}
    assert words.get("scanner") == 5 and "printer" not in words
    assert report.poor_articles == [poor]
    assert report.ticket_total == 10


def test_retired_articles_are_never_suggested(people, corpus):
    services.article_transition(
        actor=people.agent, article=corpus["Reset your password"], to=ArticleStatus.RETIRED
    )
    titles = [hit.article.title for hit in selectors.suggest_articles(user=people.agent, query="password")]
    assert "Reset your password" not in titles
