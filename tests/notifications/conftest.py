"""People, a team and helpers for the notification tests; mail goes to a real SMTP sink."""

from __future__ import annotations

import asyncio
import email
import email.policy

import pytest
from aiosmtpd.controller import Controller

from opsdesk.accounts.choices import Role
from tests.accounts.factories import TeamFactory, TeamMembershipFactory
from tests.mailserver import _free_port


class FlakySink:
    """An SMTP server that answers "451 try again later" to the first ``refuse`` messages."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.refused = 0
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def flaky_smtp(settings):
    """Start a sink that refuses a given number of messages first."""
    started = []

    def start(refuse: int) -> FlakySink:
        handler = FlakySink(refuse)
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return handler

    yield start
    for controller in started:
        controller.stop()
    asyncio.set_event_loop(None)


@pytest.fixture
def desk(make_user):
    """A team with a lead and two agents, a requester and a watcher, all with addresses."""
    lead = make_user(role=Role.TEAM_LEAD, email="lead@example.com", first_name="Lee")
    alex = make_user(role=Role.AGENT, email="alex@example.com", first_name="Alex")
    sam = make_user(role=Role.AGENT, email="sam@example.com", first_name="Sam")
    team = TeamFactory(name="Service Desk", lead=lead, email="")
    TeamMembershipFactory(team=team, user=alex)
    TeamMembershipFactory(team=team, user=sam)
    riley = make_user(email="riley@example.com", first_name="Riley")
    wendy = make_user(email="wendy@example.com", first_name="Wendy")
    return type(
        "Desk", (), {"lead": lead, "alex": alex, "sam": sam, "team": team, "riley": riley, "wendy": wendy}
    )
