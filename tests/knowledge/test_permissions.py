"""Who reads what: requesters never see internal, team, draft or retired articles, anywhere."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.core.search import search
from opsdesk.knowledge import selectors
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(people):
    return {
        "public": make_article(people.agent, title="VPN on a home network", body="Install the vpn client."),
        "internal": make_article(
            people.agent,
            title="VPN concentrator failover",
            body="Internal vpn runbook.",
            audience=Audience.INTERNAL,
        ),
        "team": make_article(
            people.agent,
            title="VPN firewall rules",
            body="Network team vpn rules.",
            audience=Audience.TEAM,
            team=people.network,
        ),
        "draft": make_article(people.agent, title="VPN draft", body="vpn soon", status=ArticleStatus.DRAFT),
        "retired": make_article(
            people.agent, title="Old VPN", body="vpn legacy", status=ArticleStatus.RETIRED
        ),
    }


def test_requester_sees_only_published_public_articles(people, corpus):
    visible = set(Article.objects.restrict(people.requester, "view"))
    assert visible == {corpus["public"]}
    assert Article.objects.restrict(people.requester, "view").count() == 1


def test_agent_sees_internal_but_team_articles_only_in_the_team(people, corpus):
    assert corpus["internal"] in Article.objects.restrict(people.other_agent, "view")
    assert corpus["team"] not in Article.objects.restrict(people.other_agent, "view")
    assert corpus["team"] in Article.objects.restrict(people.agent, "view")
    assert corpus["team"] in Article.objects.restrict(people.manager, "view")


def test_requester_never_sees_internal_articles_in_lists_detail_api_suggestions_or_search(
    client, api_as, people, corpus
):
    client.force_login(people.requester)
    listing = client.get(reverse("knowledge:list"), {"q": "vpn"}).content.decode()
    assert "VPN on a home network" in listing
    for hidden in ("failover", "firewall rules", "VPN draft", "Old VPN"):
        assert hidden not in listing
    for key in ("internal", "team", "draft", "retired"):
        assert client.get(reverse("knowledge:detail", args=[corpus[key].pk])).status_code == 404
        assert api_as(people.requester).get(f"/api/v1/articles/{corpus[key].pk}/").status_code == 404
    api = api_as(people.requester).get("/api/v1/articles/", {"q": "vpn"}).json()
    assert [row["title"] for row in api["results"]] == ["VPN on a home network"]
    assert "owner" not in api["results"][0]
    fragment = client.get(reverse("knowledge:suggest"), {"q": "vpn"}).content.decode()
    assert "home network" in fragment and "failover" not in fragment and "firewall" not in fragment
    hits = [hit.title for hit in search(user=people.requester, query="vpn") if hit.label == "Article"]
    assert hits == [corpus["public"].__str__()]


def test_agent_suggestions_in_the_portal_are_public_only(people, corpus):
    titles = {
        hit.article.title
        for hit in selectors.suggest_articles(user=people.agent, query="vpn", public_only=True)
    }
    assert titles == {"VPN on a home network"}
    desk = {hit.article.title for hit in selectors.suggest_articles(user=people.agent, query="vpn")}
    assert desk == {"VPN on a home network", "VPN concentrator failover", "VPN firewall rules"}


def test_requester_sees_articles_in_their_language_when_there_are_some(people):
    make_article(people.agent, title="Drucker einrichten", body="Drucker hinzufügen", language="de")
    make_article(people.agent, title="Set up a printer", body="Add the printer")
    people.requester.language = "de"
    people.requester.save()
    titles = [article.title for article in selectors.article_list_for(user=people.requester)]
    assert titles == ["Drucker einrichten"]
    people.requester.language = "fr"
    people.requester.save()
    assert len(selectors.article_list_for(user=people.requester)) == 2


def test_requester_cannot_write_and_agents_cannot_write_other_teams_articles(api_as, people, corpus):
    refused = api_as(people.requester).post(
        "/api/v1/articles/", {"title": "Mine", "body": "x"}, format="json"
    )
    assert refused.status_code == 403
    patch = api_as(people.other_agent).patch(
        f"/api/v1/articles/{corpus['team'].pk}/", {"title": "Taken"}, format="json", HTTP_IF_MATCH="*"
    )
    assert patch.status_code == 404
    assert api_as(people.auditor).post("/api/v1/articles/", {"title": "A"}, format="json").status_code == 403


def test_requester_versions_are_hidden(api_as, people, corpus):
    assert (
        api_as(people.requester).get(f"/api/v1/articles/{corpus['public'].pk}/versions/").status_code == 404
    )
    assert len(api_as(people.agent).get(f"/api/v1/articles/{corpus['public'].pk}/versions/").json()) == 1
