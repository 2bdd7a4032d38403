"""The chat's WebSockets through the real ASGI application: origin check, session-cookie
authentication, who may join which chat, validation, live messages, typing, the queue."""

from __future__ import annotations

import functools

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import Client

from opsdesk.chat import services
from opsdesk.chat.choices import SessionStatus
from opsdesk.chat.constants import MAX_MESSAGE_LENGTH
from opsdesk.chat.models import ChatMessage
from opsdesk.config.asgi import application
from tests.chat.communicator import WebsocketCommunicator
from tests.chat.factories import desk, requester, started_chat

pytestmark = pytest.mark.django_db(transaction=True)


def run_async(test):
    """Run an async test body on its own event loop (as the ASGI server would)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return async_to_sync(test)(*args, **kwargs)

    return run


SITE = "http://testserver"


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _connect(path: str, user=None, origin: str = SITE, host: str = "testserver"):
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        headers.append((b"cookie", (await sync_to_async(_cookie)(user)).encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@pytest.fixture
def chat_setup(db):
    team, (anna, ben) = desk(agents=2)
    rita = requester()
    chat = started_chat(team=team, who=rita, body="Hello, my screen is black")
    return team, anna, ben, rita, chat


@run_async
async def test_requester_and_agent_see_each_others_messages_and_typing(chat_setup):
    _team, anna, _ben, rita, chat = chat_setup
    path = f"/ws/chat/{chat.pk}/"
    theirs, connected, _ = await _connect(path, rita)
    assert connected
    hello = await theirs.receive_json_from()
    assert hello["type"] == "hello" and hello["session"]["status"] == "waiting"
    assert [m["body"] for m in hello["messages"]] == ["Hello, my screen is black"]

    await sync_to_async(services.chat_accept)(actor=anna, session=chat)
    status = await theirs.receive_json_from()
    assert status["type"] == "status" and status["session"]["agent"] == str(anna)

    ours, connected, _ = await _connect(path, anna)
    assert connected
    await ours.receive_json_from()  # hello
    await ours.send_json_to({"type": "typing", "typing": True})
    typing = await theirs.receive_json_from()
    assert typing == {"type": "typing", "user": str(anna), "typing": True}
    await ours.send_json_to({"type": "message", "body": "Try holding the power button <b>10 s</b>"})
    received = await theirs.receive_json_from()
    assert received["type"] == "message"
    assert received["message"]["body"] == "Try holding the power button <b>10 s</b>"
    assert received["message"]["from_agent"] is True
    # Stored before it was broadcast.
    assert await ChatMessage.objects.filter(session=chat, author=anna).acount() == 1

    await theirs.send_json_to({"type": "message", "body": "That worked, thanks!"})
    assert (await ours.receive_json_from())["type"] in ("typing", "message")
    await theirs.send_json_to({"type": "end"})
    while (frame := await ours.receive_json_from())["type"] != "status":
        pass
    assert frame["session"]["status"] == SessionStatus.ENDED
    await theirs.disconnect()
    await ours.disconnect()


@run_async
async def test_a_socket_without_sign_in_is_closed(chat_setup):
    chat = chat_setup[4]
    _, connected, code = await _connect(f"/ws/chat/{chat.pk}/")
    assert not connected and code == 4401


@run_async
async def test_another_requester_or_an_agent_of_another_team_cannot_join(chat_setup):
    chat = chat_setup[4]
    stranger = await sync_to_async(requester)("sam")
    _, connected, code = await _connect(f"/ws/chat/{chat.pk}/", stranger)
    assert not connected and code == 4403
    other_team = await sync_to_async(desk)("Network")
    _, connected, code = await _connect(f"/ws/chat/{chat.pk}/", other_team[1][0])
    assert not connected and code == 4403
    _, connected, code = await _connect("/ws/chat/999999/", chat_setup[3])
    assert not connected and code == 4403


@run_async
async def test_other_sites_are_refused_unless_allowed(chat_setup, settings):
    rita, chat = chat_setup[3], chat_setup[4]
    path = f"/ws/chat/{chat.pk}/"
    _, connected, _ = await _connect(path, rita, origin="https://evil.example")
    assert not connected
    _, connected, _ = await _connect(path, rita, origin="")
    assert not connected
    # A page of this server on another port is another origin.
    _, connected, _ = await _connect(path, rita, origin="http://testserver:8081")
    assert not connected
    settings.CHAT_ALLOWED_ORIGINS = ["https://intranet.example.com"]
    allowed, connected, _ = await _connect(path, rita, origin="https://intranet.example.com")
    assert connected
    await allowed.disconnect()
    settings.SITE_URL = "https://help.example.com"
    site, connected, _ = await _connect(path, rita, origin="https://help.example.com", host="internal:8000")
    assert connected
    await site.disconnect()


@run_async
async def test_bad_frames_get_an_error_and_the_connection_stays(chat_setup):
    rita, chat = chat_setup[3], chat_setup[4]
    communicator, connected, _ = await _connect(f"/ws/chat/{chat.pk}/", rita)
    assert connected
    await communicator.receive_json_from()
    await communicator.send_to(text_data="not json")
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    await communicator.send_json_to(["message"])
    assert (await communicator.receive_json_from())["code"] == "bad_type"
    await communicator.send_json_to({"type": "delete_everything"})
    assert (await communicator.receive_json_from())["code"] == "bad_type"
    await communicator.send_json_to({"type": "message", "body": "x" * (MAX_MESSAGE_LENGTH + 1), "ref": "a1"})
    error = await communicator.receive_json_from()
    assert error["code"] == "too_long" and error["ref"] == "a1"
    await communicator.send_json_to({"type": "message", "body": {"html": "<script>"}})
    assert (await communicator.receive_json_from())["code"] == "invalid"
    await communicator.send_json_to({"type": "typing", "typing": "yes"})
    assert (await communicator.receive_json_from())["code"] == "bad_type"
    # Still connected and working.
    await communicator.send_json_to({"type": "message", "body": "still here"})
    assert (await communicator.receive_json_from())["message"]["body"] == "still here"
    assert await ChatMessage.objects.filter(session=chat).acount() == 2
    await communicator.disconnect()


@run_async
async def test_the_queue_socket_tells_agents_of_the_team_about_new_chats(chat_setup):
    team, anna, _ben, _rita, _chat = chat_setup
    queue, connected, _ = await _connect("/ws/chat/queue/", anna)
    assert connected
    assert (await queue.receive_json_from())["teams"] == [team.pk]
    sam = await sync_to_async(requester)("sam")
    new_chat = await sync_to_async(started_chat)(team=team, who=sam, body="Need a new mouse")
    frame = await queue.receive_json_from()
    assert frame == {"type": "queue", "session": new_chat.pk, "team": team.pk}
    await queue.disconnect()


@run_async
async def test_requesters_get_no_queue_socket(chat_setup):
    _, connected, code = await _connect("/ws/chat/queue/", chat_setup[3])
    assert not connected and code == 4403
