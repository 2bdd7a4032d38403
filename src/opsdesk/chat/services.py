"""Writes of the live chat. The WebSocket consumer, the pages and the sweep all come here, so
who may write, the limits and the broadcast after commit hold on every path."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from opsdesk.accounts.models import Team, User
from opsdesk.chat import broadcast, selectors
from opsdesk.chat.choices import CONVERTIBLE_STATUSES, OPEN_STATUSES, SessionStatus
from opsdesk.chat.constants import (
    IDLE_TIMEOUT_MINUTES,
    MAX_MESSAGE_LENGTH,
    MESSAGES_PER_MINUTE,
    RATE_WINDOW_SECONDS,
    TITLE_LENGTH,
    WAITING_TIMEOUT_MINUTES,
)
from opsdesk.chat.models import ChatMessage, ChatSession
from opsdesk.core.audit import acting
from opsdesk.core.choices import AuditOperation
from opsdesk.core.choices import Channel as AuditChannel
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.models import AuditEntry
from opsdesk.tickets.choices import Channel
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_assign, ticket_create, ticket_reply

# Control characters other than tab and newline never reach the transcript.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Markdown that could turn typed text into markup: inline markers anywhere, block markers
# (headings, lists, rules) at the start of a line. "<", ">" and "&" become entities first.
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]|])")
MARKDOWN_LINE_START = re.compile(r"^(\s*)([#+\-])", re.MULTILINE)
MARKDOWN_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)
MARKDOWN_SETEXT = re.compile(r"^(\s*)=", re.MULTILINE)


def clean_body(body: object) -> str:
    """A message as it will be stored: text, trimmed, without control characters, not too long."""
    if not isinstance(body, str):
        raise ServiceError("A message is text.", field="body")
    body = CONTROL_CHARACTERS.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not body:
        raise ServiceError("Write something first.", field="body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ServiceError(
            f"A message is at most {MAX_MESSAGE_LENGTH:,} characters; this one has {len(body):,}. "
            "Split it in two.",
            code="too_long",
            field="body",
        )
    return body


def _check_rate(user: User) -> None:
    """At most MESSAGES_PER_MINUTE messages per person and minute, across all their chats."""
    window = int(timezone.now().timestamp()) // RATE_WINDOW_SECONDS
    key = f"chat:rate:{user.pk}:{window}"
    cache.add(key, 0, RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW_SECONDS * 2)
        count = 1
    if count > MESSAGES_PER_MINUTE:
        raise ServiceError(
            f"You are sending messages very fast (more than {MESSAGES_PER_MINUTE} a minute). "
            "Wait a moment and send again.",
            code="rate_limited",
            field="body",
        )


def _is_team_agent(user: User, session: ChatSession) -> bool:
    return user.is_agent and session.team.memberships.filter(user=user).exists()


def _plain(value: object) -> object:
    """A value as the audit trail records it: a related record by its id, a time as ISO text."""
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "pk", value)


def _audit(session: ChatSession, changes: dict) -> None:
    AuditEntry.record(session, AuditOperation.UPDATE, changes)


def _compare_and_set(session: ChatSession, *, expected: tuple[str, ...], **values) -> bool:
    """Move the chat from one of the ``expected`` states in one UPDATE: of two agents accepting
    at once (or an agent accepting as the requester leaves), exactly one wins."""
    updated = ChatSession.objects.filter(pk=session.pk, status__in=expected).update(
        version=F("version") + 1, updated_at=timezone.now(), **values
    )
    if not updated:
        return False
    before = {name: _plain(getattr(session, name)) for name in values}
    session.refresh_from_db()
    _audit(
        session,
        {
            name: [before[name], _plain(value)]
            for name, value in values.items()
            if before[name] != _plain(value)
        },
    )
    return True


def _store_message(session: ChatSession, author: User, body: str) -> ChatMessage:
    message = ChatMessage.objects.create(session=session, author=author, body=body)
    ChatSession.objects.filter(pk=session.pk).update(last_message_at=message.created_at)
    session.last_message_at = message.created_at
    broadcast.announce_message(message)
    return message


def chat_start(*, actor: User, team: Team, body: object, origin: str = "") -> ChatSession:
    """Open a chat with ``team`` with a first message. It waits in the team's queue until an
    agent accepts it. Refused when nobody of the team is available: offer a ticket instead."""
    if actor.is_read_only:
        raise NotAllowed("Read-only roles do not open chats.")
    text = clean_body(body)
    if selectors.session_open_for_requester(user=actor) is not None:
        raise ServiceError("You already have a chat open; continue there.", code="chat_open")
    if not selectors.team_available(team=team):
        raise ServiceError(
            f"Nobody from {team.name} is available to chat right now.", code="nobody_available", field="team"
        )
    _check_rate(actor)
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        session = ChatSession(requester=actor, team=team, origin=origin[:200])
        session.full_clean(exclude=["requester", "team"])
        session.save()
        _store_message(session, actor, text)
        broadcast.announce_queue(session)
    return session


def chat_post(*, actor: User, session: ChatSession, body: object) -> ChatMessage:
    """A message from the requester (while waiting or talking) or from the accepting agent."""
    text = clean_body(body)
    session.refresh_from_db(fields=["status", "agent"])
    if actor.pk == session.requester_id:
        if session.status not in OPEN_STATUSES:
            raise ServiceError("This chat has ended; start a new one.", code="chat_ended")
    elif actor.pk == session.agent_id:
        if session.status != SessionStatus.ACTIVE:
            raise ServiceError("This chat has ended.", code="chat_ended")
    else:
        raise NotAllowed("Only the requester and the agent who accepted the chat write in it.")
    _check_rate(actor)
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        return _store_message(session, actor, text)


def chat_accept(*, actor: User, session: ChatSession) -> ChatSession:
    """An agent of the chat's team takes it. Of two agents accepting at once, one wins."""
    if not _is_team_agent(actor, session) or actor.is_read_only:
        raise NotAllowed(f"Only agents of {session.team.name} accept its chats.")
    if actor.pk == session.requester_id:
        raise NotAllowed("You cannot answer your own chat.")
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        won = _compare_and_set(
            session,
            expected=(SessionStatus.WAITING,),
            status=SessionStatus.ACTIVE,
            agent=actor,
            accepted_at=timezone.now(),
        )
        if not won:
            session.refresh_from_db()
            taken_by = f" {session.agent} took it." if session.agent_id else ""
            raise ServiceError(
                f"This chat is no longer waiting ({session.get_status_display().lower()}).{taken_by}",
                code="already_taken",
            )
        broadcast.announce_status(session)
    return session


def chat_end(*, actor: User, session: ChatSession) -> ChatSession:
    """The requester or the agent ends the chat. A chat ended before anyone accepted it counts
    as abandoned."""
    if actor.pk != session.requester_id and not (
        actor.pk == session.agent_id or _is_team_agent(actor, session)
    ):
        raise NotAllowed("Only the people in this chat can end it.")
    session.refresh_from_db()
    if session.status not in OPEN_STATUSES:
        return session
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        final = SessionStatus.ABANDONED if session.status == SessionStatus.WAITING else SessionStatus.ENDED
        if _compare_and_set(
            session, expected=(session.status,), status=final, ended_at=timezone.now(), ended_by=actor
        ):
            broadcast.announce_status(session)
        else:
            session.refresh_from_db()
    return session


def _markdown_text(text: str) -> str:
    """Plain text safe to put in Markdown: shown as typed, never as markup."""
    text = MARKDOWN_INLINE.sub(r"\\\1", html.escape(text, quote=False))
    text = MARKDOWN_LINE_START.sub(r"\1\\\2", text)
    text = MARKDOWN_NUMBERED.sub(r"\1\\\2", text)
    return MARKDOWN_SETEXT.sub(r"\1&#61;", text)


def transcript(*, session: ChatSession) -> str:
    """The chat as Markdown, one paragraph per message, with who and when (UTC)."""
    messages = selectors.message_history(session=session, limit=10_000)
    started = session.created_at.astimezone(UTC)
    lines = [f"Chat #{session.pk} with {session.team.name}, {started:%d %b %Y} (times in UTC):", ""]
    for message in messages:
        at = message.created_at.astimezone(UTC)
        lines.append(f"**{_markdown_text(str(message.author))}** ({at:%H:%M}):  ")
        lines.append(_markdown_text(message.body))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _default_title(session: ChatSession) -> str:
    first = ChatMessage.objects.filter(session=session, author_id=session.requester_id).order_by("id").first()
    text = " ".join(first.body.split()) if first else f"Chat with {session.team.name}"
    return f"Chat: {text[: TITLE_LENGTH - 1] + '…' if len(text) > TITLE_LENGTH else text}"


def _check_convertible(actor: User, session: ChatSession) -> None:
    if session.ticket_id:
        raise ServiceError(f"This chat is already on {session.ticket.number}.", code="already_converted")
    if session.status not in CONVERTIBLE_STATUSES:
        raise ServiceError("This chat can no longer become a ticket.", code="chat_final")
    if actor.pk == session.requester_id:
        # The requester turns their own chat into a ticket while nobody has answered yet.
        if session.status != SessionStatus.WAITING:
            raise NotAllowed("The agent you are chatting with can turn this chat into a ticket.")
    elif not _is_team_agent(actor, session) or actor.is_read_only:
        raise NotAllowed(f"Only agents of {session.team.name} turn its chats into tickets.")


def _link_ticket(actor: User, session: ChatSession, ticket: Ticket) -> None:
    expected = tuple(CONVERTIBLE_STATUSES)
    values = {"ticket": ticket, "status": SessionStatus.CONVERTED, "ended_by": actor}
    if session.ended_at is None:
        values["ended_at"] = timezone.now()
    if not _compare_and_set(session, expected=expected, **values):
        raise ServiceError("This chat changed meanwhile; reload it.", code="chat_changed")
    broadcast.announce_status(session)


def chat_convert(*, actor: User, session: ChatSession, title: str = "") -> Ticket:
    """The transcript becomes a new ticket of the chat's requester (channel "chat"). An agent
    converting it also takes the ticket in the chat's team; the chat ends, linked to it."""
    _check_convertible(actor, session)
    title = " ".join((title or "").split())[:200] or _default_title(session)
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        ticket = ticket_create(
            actor=actor,
            title=title,
            requester=session.requester,
            description=transcript(session=session),
            channel=Channel.CHAT,
        )
        if actor.is_agent and actor.pk != session.requester_id:
            ticket_assign(
                actor=actor, ticket=ticket, team=session.team, assignee=actor, reason="From a chat."
            )
        _link_ticket(actor, session, ticket)
    return ticket


def chat_add_to_ticket(*, actor: User, session: ChatSession, ticket: Ticket) -> Ticket:
    """The transcript joins an existing ticket of the chat's requester as a public reply."""
    _check_convertible(actor, session)
    if actor.pk == session.requester_id:
        raise NotAllowed("The agent adds a chat to a ticket.")
    if ticket.requester_id != session.requester_id:
        raise ServiceError(
            f"{ticket.number} is not {session.requester}'s ticket; pick one of theirs.",
            code="other_requester",
            field="ticket",
        )
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        ticket_reply(actor=actor, ticket=ticket, body=transcript(session=session), public=True)
        _link_ticket(actor, session, ticket)
    return ticket


def chat_leave_ticket(*, actor: User, team: Team, body: object, origin: str = "") -> Ticket:
    """Nobody can chat now: what the requester typed becomes a ticket (channel "chat"), and a
    chat record of it is kept, linked to the ticket."""
    if actor.is_read_only:
        raise NotAllowed("Read-only roles raise no tickets.")
    text = clean_body(body)
    with transaction.atomic(), acting(actor=actor, channel=AuditChannel.CHAT):
        session = ChatSession(requester=actor, team=team, origin=origin[:200])
        session.save()
        ChatMessage.objects.create(session=session, author=actor, body=text)
        return chat_convert(actor=actor, session=session)


def chats_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Close what nobody will come back to: waiting chats nobody accepted in time are abandoned,
    active chats silent for too long are ended. Returns how many of each."""
    now = now or timezone.now()
    counts = {"abandoned": 0, "ended": 0}
    stale_waiting = ChatSession.objects.filter(
        status=SessionStatus.WAITING, created_at__lt=now - timedelta(minutes=WAITING_TIMEOUT_MINUTES)
    )
    idle_active = ChatSession.objects.filter(
        status=SessionStatus.ACTIVE,
        last_message_at__lt=now - timedelta(minutes=IDLE_TIMEOUT_MINUTES),
    )
    for queryset, final, key in (
        (stale_waiting, SessionStatus.ABANDONED, "abandoned"),
        (idle_active, SessionStatus.ENDED, "ended"),
    ):
        for session in queryset.select_related("team", "agent", "ticket").iterator():
            with transaction.atomic(), acting(channel=AuditChannel.SYSTEM):
                if _compare_and_set(session, expected=(session.status,), status=final, ended_at=now):
                    broadcast.announce_status(session)
                    counts[key] += 1
    return counts
