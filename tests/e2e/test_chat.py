"""Live chat in a real browser, over real WebSockets: a requester chats with an agent (two
browser contexts), both see each other's messages and typing, the agent turns the transcript
into a ticket, and the requester finds that ticket in the portal.

pytest-django's live server speaks WSGI only, so these tests serve the ASGI application with
uvicorn (what ``opsdesk serve`` runs) in a thread of the test process, on the test database.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connections

from opsdesk.accounts.choices import Role
from opsdesk.chat.models import ChatSession
from opsdesk.tickets.models import Ticket
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.e2e.test_journeys import assert_no_csp_violations, sign_in
from tests.e2e.test_tickets import _second_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

START_TIMEOUT = 10


@pytest.fixture
def asgi_server(transactional_db):
    """uvicorn serving opsdesk.config.asgi on a free 127.0.0.1 port, HTTP and WebSockets."""
    import uvicorn

    from opsdesk.config.asgi import application

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, lifespan="off", log_level="warning", ws="websockets-sansio", access_log=False
        )
    )
    # An in-memory SQLite test database lives in this process's connection: share it with the
    # server's threads, as pytest-django's live server does (PostgreSQL needs nothing).
    shared = [conn for conn in connections.all() if conn.vendor == "sqlite" and conn.is_in_memory_db()]
    for conn in shared:
        conn.inc_thread_sharing()

    def serve():
        for conn in shared:
            connections[conn.alias] = conn
        server.run(sockets=[listener])

    thread = threading.Thread(target=serve, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(START_TIMEOUT)
    listener.close()
    for conn in shared:
        conn.dec_thread_sharing()


def _people():
    acme, it = OrganizationFactory(name="Acme Logistics"), OrganizationFactory(name="IT department")
    rita = UserFactory(
        username="rita", first_name="Rita", last_name="Lang", role=Role.REQUESTER, organization=acme
    )
    anna = UserFactory(username="anna", first_name="Anna", last_name="Berg", role=Role.AGENT, organization=it)
    desk = TeamFactory(name="Service desk")
    TeamMembershipFactory(team=desk, user=anna)
    return rita, anna, desk


def test_a_requester_chats_with_an_agent_and_the_transcript_becomes_a_ticket(
    page, browser, asgi_server, screenshots_dir
):
    rita, anna, _desk = _people()
    server = asgi_server

    # The agent watches the chat queue; it is live over its socket.
    agent = page
    sign_in(agent, server, "anna")
    agent.goto(f"{server.url}/chat/queue/")
    agent.get_by_text("Live", exact=True).wait_for()
    agent.get_by_text("Nobody is waiting").wait_for()

    # The requester opens the chat and asks.
    requester_context, requester = _second_page(browser)
    sign_in(requester, server, "rita")
    requester.goto(f"{server.url}/chat/widget/")
    requester.select_option("select[name=team]", label="Service desk")
    requester.fill("textarea[name=body]", "My laptop says 'no boot device' <since today>")
    requester.get_by_role("button", name="Start chat").click()
    requester.get_by_text("Waiting for someone from Service desk").wait_for()
    log = requester.locator("[data-chat-log]")
    log.get_by_text("My laptop says 'no boot device' <since today>").wait_for()

    # The queue shows the waiting chat without a reload; the agent accepts it.
    waiting = agent.locator("[data-chat-waiting]")
    waiting.get_by_text("Rita Lang").wait_for()
    agent.screenshot(path=str(screenshots_dir / "chat-queue.png"), full_page=True)
    waiting.get_by_role("button", name="Accept").click()
    agent.wait_for_url(re.compile(r"/chat/\d+/$"))
    agent_log = agent.locator("[data-chat-log]")
    agent_log.get_by_text("My laptop says 'no boot device' <since today>").wait_for()

    # The requester's side follows: now talking with Anna.
    requester.get_by_text("You are chatting with Anna Berg").wait_for()

    # Messages and typing, both ways, live.
    agent.fill("#chat-message", "Sorry to hear that. Does it show the logo first?")
    agent.press("#chat-message", "Enter")
    requester.locator("[data-chat-log]").get_by_text("Does it show the logo first?").wait_for()
    requester.locator("#chat-message").press_sequentially("Yes, then", delay=20)
    agent.get_by_text("Rita Lang is typing…").wait_for()
    requester.locator("#chat-message").press_sequentially(" the error appears.", delay=5)
    requester.get_by_role("button", name="Send").click()
    agent_log.get_by_text("Yes, then the error appears.").wait_for()
    assert requester.locator("#chat-message").input_value() == ""
    requester.screenshot(path=str(screenshots_dir / "chat-widget.png"), full_page=True)
    agent.screenshot(path=str(screenshots_dir / "chat-agent.png"), full_page=True)

    # The agent turns the transcript into a ticket of Rita's.
    agent.fill("input[name=title]", "Laptop: no boot device")
    agent.get_by_role("button", name="Create ticket").click()
    agent.wait_for_url(re.compile(r"/tickets/[A-Z]+\d+/$"))
    ticket = Ticket.objects.get()
    assert ticket.requester == rita and ticket.channel == "chat" and ticket.assignee == anna
    assert "Yes, then the error appears." in ticket.description
    assert ChatSession.objects.get().ticket == ticket
    agent.get_by_text("Laptop: no boot device").first.wait_for()

    # The requester is told where the chat went, and finds the ticket in the portal.
    requester.get_by_text(f"Your last chat is on ticket {ticket.number}").wait_for()
    requester.goto(f"{server.url}/tickets/my/")
    requester.get_by_text("Laptop: no boot device").wait_for()
    requester.get_by_text(ticket.number, exact=False).first.wait_for()

    assert_no_csp_violations(agent)
    assert_no_csp_violations(requester)
    requester_context.close()


def test_a_requester_with_nobody_on_shift_leaves_a_ticket_instead(page, asgi_server):
    rita, anna, _desk = _people()
    anna.presence = "away"
    anna.save()
    sign_in(page, asgi_server, "rita")
    page.goto(f"{asgi_server.url}/chat/widget/")
    page.fill("textarea[name=body]", "The printer on floor 2 is out of toner")
    page.get_by_role("button", name="Start chat").click()
    page.get_by_text("Nobody from Service desk is available to chat right now.").wait_for()
    assert page.locator("textarea[name=body]").input_value() == "The printer on floor 2 is out of toner"
    page.get_by_role("button", name="Leave a ticket").click()
    ticket = Ticket.objects.get()
    page.get_by_text(f"we have your ticket {ticket.number}").wait_for()
    assert ticket.requester == rita and ticket.channel == "chat"
    assert_no_csp_violations(page)
