"""The chat pages: the widget (framing policy, start, nobody available, leave a ticket), the
agents' queue, accepting, ending and converting, and who may open what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Presence
from opsdesk.chat import services
from opsdesk.chat.choices import SessionStatus
from opsdesk.chat.models import ChatSession
from opsdesk.tickets.choices import Channel
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_create
from tests.chat.factories import desk, requester, started_chat

pytestmark = pytest.mark.django_db


def test_the_widget_may_be_framed_by_this_site_and_the_allowed_origins_only(client, settings):
    settings.CHAT_ALLOWED_ORIGINS = ["https://intranet.example.com"]
    client.force_login(requester())
    response = client.get(reverse("chat:widget"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://intranet.example.com" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "X-Frame-Options" not in response
    # Every other page stays unframeable.
    other = client.get(reverse("tickets:requester_list"))
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]


def test_signed_out_visitors_are_asked_to_sign_in_inside_the_widget(client):
    response = client.get(reverse("chat:widget"))
    assert response.status_code == 200
    assert b"Sign in to chat" in response.content


def test_a_requester_starts_a_chat_and_sees_it(client):
    team, _ = desk()
    rita = requester()
    client.force_login(rita)
    page = client.get(reverse("chat:widget"))
    assert team.name.encode() in page.content
    response = client.post(
        reverse("chat:start"),
        {"team": team.pk, "body": "Cannot print", "origin": "https://intranet.example.com"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/chat/widget/?origin=https%3A%2F%2Fintranet.example.com"
    chat = ChatSession.objects.get()
    assert chat.origin == "https://intranet.example.com" and chat.requester == rita
    page = client.get(response["Location"])
    assert f'data-ws-path="/ws/chat/{chat.pk}/"'.encode() in page.content
    assert b"Leave a ticket instead" in page.content


def test_nobody_available_is_said_at_once_and_a_ticket_keeps_what_was_typed(client):
    team, (anna,) = desk()
    anna.presence = Presence.AWAY
    anna.save()
    rita = requester()
    client.force_login(rita)
    page = client.get(reverse("chat:widget"))
    assert b"(nobody available now)" in page.content
    response = client.post(reverse("chat:start"), {"team": team.pk, "body": "VPN is down <again>"})
    assert response.status_code == 200
    assert b"Nobody from" in response.content and b"Leave a ticket" in response.content
    assert b"VPN is down &lt;again&gt;" in response.content  # kept, escaped
    response = client.post(reverse("chat:leave_ticket"), {"team": team.pk, "body": "VPN is down <again>"})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.CHAT and ticket.requester == rita
    page = client.get(reverse("chat:widget"))
    assert ticket.number.encode() in page.content


def test_bad_widget_input_is_a_clear_error_not_a_crash(client):
    team, _ = desk()
    client.force_login(requester())
    for data in ({}, {"team": "x", "body": "hi"}, {"team": "999999", "body": "hi"}):
        response = client.post(reverse("chat:start"), data)
        assert response.status_code == 400
        assert b"Pick who you want to chat with" in response.content
    response = client.post(reverse("chat:start"), {"team": team.pk, "body": "   "})
    assert response.status_code == 400 and b"Write something first" in response.content


def test_agents_see_the_queue_accept_and_turn_the_chat_into_a_ticket(client):
    team, (anna, ben) = desk(agents=2)
    rita = requester()
    chat = started_chat(team=team, who=rita, body="Excel freezes")
    client.force_login(anna)
    queue = client.get(reverse("chat:queue"))
    assert queue.status_code == 200 and b"Rita Lang" in queue.content
    assert client.get(reverse("chat:queue_list")).status_code == 200
    response = client.post(reverse("chat:accept", args=[chat.pk]))
    assert response["Location"] == reverse("chat:session", args=[chat.pk])
    page = client.get(response["Location"])
    assert b"Create ticket" in page.content

    # Ben clicked a moment later: he is told, nothing changes.
    client.force_login(ben)
    response = client.post(reverse("chat:accept", args=[chat.pk]), follow=True)
    assert b"no longer waiting" in response.content
    chat.refresh_from_db()
    assert chat.agent == anna

    client.force_login(anna)
    response = client.post(reverse("chat:convert", args=[chat.pk]), {"title": "Excel freezes on open"})
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("tickets:detail", args=[ticket.number])
    assert ticket.title == "Excel freezes on open" and ticket.requester == rita
    chat.refresh_from_db()
    assert chat.status == SessionStatus.CONVERTED and chat.ticket == ticket


def test_chats_of_other_teams_and_people_are_missing_pages(client):
    team, _ = desk()
    _network, (olga,) = desk("Network")
    chat = started_chat(team=team, who=requester())
    client.force_login(olga)
    assert client.get(reverse("chat:session", args=[chat.pk])).status_code == 404
    assert client.post(reverse("chat:accept", args=[chat.pk])).status_code == 404
    client.force_login(requester("sam"))
    assert client.get(reverse("chat:queue")).status_code == 403
    assert client.post(reverse("chat:end", args=[chat.pk])).status_code == 404


def test_the_requester_ends_their_chat_from_the_widget(client):
    team, _ = desk()
    rita = requester()
    chat = started_chat(team=team, who=rita)
    client.force_login(rita)
    response = client.post(reverse("chat:end", args=[chat.pk]))
    assert response["Location"] == reverse("chat:widget")
    chat.refresh_from_db()
    assert chat.status == SessionStatus.ABANDONED


def test_the_transcript_can_join_an_open_ticket_of_the_requester(client):
    team, (anna,) = desk()
    rita = requester()
    ticket = ticket_create(actor=rita, title="Monitor flickers")
    chat = started_chat(team=team, who=rita, body="Still flickering")
    services.chat_accept(actor=anna, session=chat)
    client.force_login(anna)
    page = client.get(reverse("chat:session", args=[chat.pk]))
    assert ticket.number.encode() in page.content
    response = client.post(reverse("chat:add_to_ticket", args=[chat.pk]), {"ticket": ticket.number})
    assert response["Location"] == reverse("tickets:detail", args=[ticket.number])
    response = client.post(
        reverse("chat:add_to_ticket", args=[chat.pk]), {"ticket": "INC9999999"}, follow=True
    )
    assert b"Pick one of the requester" in response.content
