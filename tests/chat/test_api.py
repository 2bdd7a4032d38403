"""The read-only chat API: own chats for requesters, team chats for agents, messages on one."""

from __future__ import annotations

import pytest

from opsdesk.chat import services
from tests.chat.factories import desk, requester, started_chat

pytestmark = pytest.mark.django_db


def test_requesters_list_their_own_chats_with_messages(api_as):
    team, (anna,) = desk()
    rita, sam = requester(), requester("sam")
    chat = started_chat(team=team, who=rita, body="Hello")
    services.chat_accept(actor=anna, session=chat)
    services.chat_post(actor=anna, session=chat, body="Hi Rita")
    started_chat(team=team, who=sam, body="Sam's question")

    listing = api_as(rita).get("/api/v1/chats/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [chat.pk]
    assert listing.json()["results"][0]["message_count"] == 2
    detail = api_as(rita).get(f"/api/v1/chats/{chat.pk}/").json()
    assert [m["body"] for m in detail["messages"]] == ["Hello", "Hi Rita"]
    assert detail["status"] == "active" and detail["agent"] == anna.pk

    assert api_as(sam).get(f"/api/v1/chats/{chat.pk}/").status_code == 404
    assert len(api_as(anna).get("/api/v1/chats/?status=waiting").json()["results"]) == 1


def test_agents_of_other_teams_see_nothing_and_nobody_writes(api_as):
    team, _ = desk()
    _network, (olga,) = desk("Network")
    rita = requester()
    chat = started_chat(team=team, who=rita)
    assert api_as(olga).get("/api/v1/chats/").json()["results"] == []
    assert api_as(rita).post("/api/v1/chats/", {}, format="json").status_code == 405
    assert api_as(rita).delete(f"/api/v1/chats/{chat.pk}/").status_code == 405
