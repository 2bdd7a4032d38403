"""The chat's rules: who may start, write, accept, end and convert; limits; the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import AbsenceKind, Presence, Role
from opsdesk.chat import selectors, services
from opsdesk.chat.choices import SessionStatus
from opsdesk.chat.constants import MAX_MESSAGE_LENGTH, MESSAGES_PER_MINUTE
from opsdesk.chat.models import ChatMessage, ChatSession
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.models import AuditEntry
from opsdesk.tickets.choices import Channel, EventKind
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.services import ticket_create
from tests.accounts.factories import AbsenceFactory, UserFactory
from tests.chat.factories import desk, requester, started_chat

pytestmark = pytest.mark.django_db


def test_a_chat_waits_in_the_team_queue_with_its_first_message():
    team, (anna,) = desk()
    rita = requester()
    chat = started_chat(team=team, who=rita)
    assert chat.status == SessionStatus.WAITING
    assert [m.body for m in chat.messages.all()] == ["My laptop will not start"]
    assert list(selectors.queue_for(user=anna)) == [chat]


def test_nobody_available_refuses_the_chat_and_offers_a_ticket_instead():
    team, (anna,) = desk()
    anna.presence = Presence.AWAY
    anna.save()
    rita = requester()
    with pytest.raises(ServiceError) as refused:
        started_chat(team=team, who=rita)
    assert refused.value.code == "nobody_available"
    assert not ChatSession.objects.exists()

    ticket = services.chat_leave_ticket(actor=rita, team=team, body="Printer on floor 3 is jammed")
    assert ticket.channel == Channel.CHAT and ticket.requester == rita
    assert "Printer on floor 3 is jammed" in ticket.description
    chat = ChatSession.objects.get()
    assert chat.ticket == ticket and chat.status == SessionStatus.CONVERTED


def test_an_absent_agent_does_not_count_as_available():
    team, (anna,) = desk()
    AbsenceFactory(user=anna, kind=AbsenceKind.OUT_OF_OFFICE, starts_at=timezone.now() - timedelta(hours=1))
    assert not selectors.team_available(team=team)


def test_one_open_chat_at_a_time():
    team, _ = desk()
    rita = requester()
    started_chat(team=team, who=rita)
    with pytest.raises(ServiceError) as refused:
        started_chat(team=team, who=rita)
    assert refused.value.code == "chat_open"


def test_only_one_agent_wins_the_accept():
    team, (anna, ben) = desk(agents=2)
    chat = started_chat(team=team, who=requester())
    stale = ChatSession.objects.get(pk=chat.pk)  # what Ben's screen still shows
    services.chat_accept(actor=anna, session=chat)
    with pytest.raises(ServiceError) as lost:
        services.chat_accept(actor=ben, session=stale)
    assert lost.value.code == "already_taken"
    chat.refresh_from_db()
    assert chat.agent == anna and chat.status == SessionStatus.ACTIVE
    assert AuditEntry.objects.filter(object_id=str(chat.pk), changes__status__1="active").count() == 1


def test_agents_of_other_teams_cannot_accept_or_see():
    team, _ = desk()
    _other_team, (olga,) = desk("Network")
    chat = started_chat(team=team, who=requester())
    with pytest.raises(NotAllowed):
        services.chat_accept(actor=olga, session=chat)
    assert not selectors.session_list_for(user=olga).exists()


def test_requesters_see_only_their_own_chats():
    team, _ = desk()
    rita, sam = requester(), requester("sam")
    chat = started_chat(team=team, who=rita)
    assert list(selectors.session_list_for(user=rita)) == [chat]
    assert not selectors.session_list_for(user=sam).exists()
    assert not ChatMessage.objects.restrict(sam, "view").exists()
    with pytest.raises(NotAllowed):
        services.chat_post(actor=sam, session=chat, body="let me in")


def test_messages_are_plain_text_within_the_limit():
    team, (anna,) = desk()
    rita = requester()
    chat = started_chat(team=team, who=rita)
    message = services.chat_post(actor=rita, session=chat, body="  <b>hi</b>\x00\r\nthere  ")
    assert message.body == "<b>hi</b>\nthere"
    with pytest.raises(ServiceError) as too_long:
        services.chat_post(actor=rita, session=chat, body="x" * (MAX_MESSAGE_LENGTH + 1))
    assert too_long.value.code == "too_long"
    for empty in ("   ", 42, None, ["a"]):
        with pytest.raises(ServiceError):
            services.chat_post(actor=rita, session=chat, body=empty)
    # The agent writes only once they accepted.
    with pytest.raises(NotAllowed):
        services.chat_post(actor=anna, session=chat, body="hello")


def test_messages_are_rate_limited_per_person():
    team, _ = desk()
    rita = requester()
    chat = started_chat(team=team, who=rita)  # the first message counts too
    for n in range(MESSAGES_PER_MINUTE - 1):
        services.chat_post(actor=rita, session=chat, body=f"message {n}")
    with pytest.raises(ServiceError) as limited:
        services.chat_post(actor=rita, session=chat, body="one too many")
    assert limited.value.code == "rate_limited"
    assert chat.messages.count() == MESSAGES_PER_MINUTE


def test_ending_a_waiting_chat_abandons_it_and_an_active_one_ends_it():
    team, (anna,) = desk()
    rita = requester()
    waiting = started_chat(team=team, who=rita)
    services.chat_end(actor=rita, session=waiting)
    assert waiting.status == SessionStatus.ABANDONED

    active = started_chat(team=team, who=rita, body="again")
    services.chat_accept(actor=anna, session=active)
    services.chat_end(actor=anna, session=active)
    assert active.status == SessionStatus.ENDED and active.ended_by == anna
    with pytest.raises(ServiceError):
        services.chat_post(actor=rita, session=active, body="still there?")


def test_the_transcript_becomes_a_ticket_of_the_requester_in_the_team():
    team, (anna,) = desk()
    rita = requester()
    chat = started_chat(team=team, who=rita, body="Outlook *crashes* <script>alert(1)</script>")
    services.chat_accept(actor=anna, session=chat)
    services.chat_post(actor=anna, session=chat, body="Which version?")
    ticket = services.chat_convert(actor=anna, session=chat)
    chat.refresh_from_db()
    assert chat.status == SessionStatus.CONVERTED and chat.ticket == ticket
    assert ticket.requester == rita and ticket.channel == Channel.CHAT
    assert ticket.assigned_team == team and ticket.assignee == anna
    assert ticket.title.startswith("Chat: Outlook *crashes*")
    # What was typed shows as typed: no markup, no script.
    assert "<script" not in ticket.description_html and "&lt;script&gt;" in ticket.description_html
    assert "<em>" not in ticket.description_html and "Which version?" in ticket.description_html
    with pytest.raises(ServiceError) as again:
        services.chat_convert(actor=anna, session=chat)
    assert again.value.code == "already_converted"


def test_the_transcript_joins_an_existing_ticket_of_the_requester_only():
    team, (anna,) = desk()
    rita, sam = requester(), requester("sam")
    own = ticket_create(actor=rita, title="VPN drops")
    foreign = ticket_create(actor=sam, title="Not Rita's")
    chat = started_chat(team=team, who=rita, body="About my VPN ticket")
    services.chat_accept(actor=anna, session=chat)
    with pytest.raises(ServiceError) as refused:
        services.chat_add_to_ticket(actor=anna, session=chat, ticket=foreign)
    assert refused.value.code == "other_requester"
    services.chat_add_to_ticket(actor=anna, session=chat, ticket=own)
    reply = TimelineEvent.objects.get(ticket=own, kind=EventKind.PUBLIC_REPLY)
    assert "About my VPN ticket" in reply.body
    chat.refresh_from_db()
    assert chat.ticket == own


def test_a_requester_may_leave_a_ticket_while_waiting_but_not_convert_a_running_chat():
    team, (anna,) = desk()
    rita = requester()
    chat = started_chat(team=team, who=rita)
    services.chat_accept(actor=anna, session=chat)
    with pytest.raises(NotAllowed):
        services.chat_convert(actor=rita, session=chat)
    services.chat_end(actor=rita, session=chat)
    waiting = started_chat(team=team, who=rita, body="Second question")
    ticket = services.chat_convert(actor=rita, session=waiting)
    assert ticket.requester == rita and ticket.assignee is None


def test_read_only_roles_neither_chat_nor_accept():
    team, _ = desk()
    auditor = UserFactory(role=Role.AUDITOR)
    with pytest.raises(NotAllowed):
        started_chat(team=team, who=auditor)


def test_the_sweep_abandons_old_waiting_chats_and_ends_silent_ones():
    team, (anna,) = desk()
    rita, sam = requester(), requester("sam")
    old = started_chat(team=team, who=rita)
    silent = started_chat(team=team, who=sam)
    services.chat_accept(actor=anna, session=silent)
    later = timezone.now() + timedelta(hours=3)
    assert services.chats_sweep(now=later) == {"abandoned": 1, "ended": 1}
    old.refresh_from_db()
    silent.refresh_from_db()
    assert old.status == SessionStatus.ABANDONED and silent.status == SessionStatus.ENDED
    assert services.chats_sweep(now=later) == {"abandoned": 0, "ended": 0}
