"""The live chat over WebSockets: one consumer per chat (messages, typing, end) and one for the
agents' queue (a nudge whenever a chat of their teams arrives, is taken or leaves).

Every incoming frame is validated, written through the services (which check who may write,
the length and the rate) and only then broadcast, so what people see is what is stored.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from opsdesk.chat import broadcast, selectors, services
from opsdesk.chat.constants import MAX_MESSAGE_LENGTH, TYPING_INTERVAL_SECONDS
from opsdesk.chat.models import ChatSession, queue_group
from opsdesk.core.exceptions import ServiceError

logger = logging.getLogger("opsdesk.chat")

# Close codes (4000–4999 are the application's own): the widget tells the person what happened.
CLOSE_NOT_SIGNED_IN = 4401
CLOSE_NOT_ALLOWED = 4403
# A frame carries one message and a little JSON around it; anything bigger is refused unread.
MAX_FRAME_CHARACTERS = MAX_MESSAGE_LENGTH * 6 + 1024
CLIENT_TYPES = ("message", "typing", "end")


def _participant(user: Any, session: ChatSession) -> bool:
    """The requester joins their own chat; agents join the chats of their teams."""
    if user.pk == session.requester_id or user.pk == session.agent_id:
        return True
    return user.is_agent and session.team.memberships.filter(user_id=user.pk).exists()


@database_sync_to_async
def _load_session(user: Any, session_id: int) -> tuple[ChatSession | None, dict, list[dict]]:
    try:
        session = selectors.session_get_for(user=user, pk=session_id)
    except ChatSession.DoesNotExist:
        return None, {}, []
    if not _participant(user, session):
        return None, {}, []
    history = [broadcast.message_payload(message) for message in selectors.message_history(session=session)]
    return session, broadcast.session_payload(session), history


class ChatSessionConsumer(AsyncJsonWebsocketConsumer):
    """ws/chat/<id>/: the requester and the agent of one chat."""

    session: ChatSession | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_SIGNED_IN)
            return
        self.user = user
        self.last_typing = 0.0
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        session, state, history = await _load_session(user, session_id)
        if session is None:
            # A chat someone may not join looks exactly like one that does not exist.
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.session = session
        await self.channel_layer.group_add(session.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": user.pk, "session": state, "messages": history})

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            await self.channel_layer.group_discard(self.session.group_name, self.channel_name)
            await self._broadcast_typing(False)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        # Not the base class's decoding: a frame that is not a small JSON object gets an
        # error frame back, never a crashed connection.
        if text_data is None:
            await self._error("Send JSON text frames.", "bad_frame")
            return
        if len(text_data) > MAX_FRAME_CHARACTERS:
            await self._error(f"A message is at most {MAX_MESSAGE_LENGTH:,} characters.", "too_long")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("Send JSON text frames.", "bad_frame")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs) -> None:
        if not isinstance(content, dict) or content.get("type") not in CLIENT_TYPES:
            await self._error(
                f"Each frame is an object whose type is one of: {', '.join(CLIENT_TYPES)}.", "bad_type"
            )
            return
        kind = content["type"]
        if kind == "typing":
            await self._typing(content.get("typing"))
            return
        try:
            if kind == "message":
                await database_sync_to_async(services.chat_post)(
                    actor=self.user, session=self.session, body=content.get("body")
                )
                await self._broadcast_typing(False)
            else:
                await database_sync_to_async(services.chat_end)(actor=self.user, session=self.session)
        except ServiceError as exc:
            await self._error(exc.message, exc.code, ref=content.get("ref"))

    async def _typing(self, typing: Any) -> None:
        if not isinstance(typing, bool):
            await self._error("typing is true or false.", "bad_type")
            return
        now = time.monotonic()
        if typing and now - self.last_typing < TYPING_INTERVAL_SECONDS:
            return
        self.last_typing = now if typing else 0.0
        await self._broadcast_typing(typing)

    async def _broadcast_typing(self, typing: bool) -> None:
        if self.session is None:
            return
        await self.channel_layer.group_send(
            self.session.group_name,
            {"type": "chat.typing", "user_id": self.user.pk, "user": str(self.user), "typing": typing},
        )

    async def _error(self, message: str, code: str, ref: Any = None) -> None:
        frame = {"type": "error", "code": code, "message": message}
        if isinstance(ref, str | int) and len(str(ref)) <= 64:
            frame["ref"] = ref
        await self.send_json(frame)

    # --- events from the channel layer -------------------------------------------------------
    async def chat_message(self, event: dict) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def chat_status(self, event: dict) -> None:
        await self.send_json({"type": "status", "session": event["session"]})

    async def chat_typing(self, event: dict) -> None:
        if event["user_id"] != self.user.pk:
            await self.send_json({"type": "typing", "user": event["user"], "typing": event["typing"]})


class ChatQueueConsumer(AsyncJsonWebsocketConsumer):
    """ws/chat/queue/: agents hear when the chat queues of their teams change."""

    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_SIGNED_IN)
            return
        if not user.is_agent:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        team_ids = await database_sync_to_async(selectors.agent_team_ids)(user=user)
        for team_id in team_ids:
            group = queue_group(team_id)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        await self.send_json({"type": "hello", "teams": team_ids})

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        await self.send_json({"type": "error", "code": "read_only", "message": "The queue only speaks."})

    async def queue_changed(self, event: dict) -> None:
        await self.send_json({"type": "queue", "session": event["session"], "team": event["team"]})
