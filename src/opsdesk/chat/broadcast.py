"""What the chat sends over the channel layer, and in which shape.

Services call these inside their transaction; the send happens after commit, so a
participant never sees a message or a state that was rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from opsdesk.chat.models import ChatMessage, ChatSession, queue_group, session_group

logger = logging.getLogger("opsdesk.chat")


def message_payload(message: ChatMessage) -> dict[str, Any]:
    author = message.author
    return {
        "id": message.pk,
        "author_id": author.pk,
        "author": str(author),
        "from_agent": author.pk != message.session.requester_id,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def session_payload(session: ChatSession) -> dict[str, Any]:
    ticket = session.ticket
    return {
        "id": session.pk,
        "status": session.status,
        "status_label": session.get_status_display(),
        "team": session.team.name,
        "agent": str(session.agent) if session.agent_id else None,
        "agent_id": session.agent_id,
        "ticket": {"number": ticket.number, "url": reverse("tickets:detail", args=[ticket.number])}
        if ticket
        else None,
    }


def _send(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        # The record is committed; a participant who missed the push sees it on reconnect.
        logger.exception("chat: could not broadcast %s to %s", event.get("type"), group)


def after_commit(group: str, event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send(group, event))


def announce_message(message: ChatMessage) -> None:
    after_commit(
        session_group(message.session_id), {"type": "chat.message", "message": message_payload(message)}
    )


def announce_status(session: ChatSession) -> None:
    after_commit(session_group(session.pk), {"type": "chat.status", "session": session_payload(session)})
    announce_queue(session)


def announce_queue(session: ChatSession) -> None:
    after_commit(
        queue_group(session.team_id),
        {"type": "queue.changed", "session": session.pk, "team": session.team_id},
    )
