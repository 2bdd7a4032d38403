"""The e-mail loop end to end, across the intake and the notifications, with real servers: a
message delivered to the LMTP receiver raises a ticket, the requester gets an acknowledgement
from the outbox through a real SMTP server, and answering that acknowledgement from a mail
client (In-Reply-To its Message-ID) lands on the same ticket; the desk's public reply goes back
out threaded under the same conversation."""

from __future__ import annotations

import smtplib

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.mail.choices import MailboxKind
from opsdesk.mail.models import Mailbox
from opsdesk.mail.receiver import IntakeReceiver
from opsdesk.tickets import services as desk_services
from opsdesk.tickets.choices import EventKind
from opsdesk.tickets.mail_threading import thread_id_for, ticket_number_from_headers
from opsdesk.tickets.models import Ticket
from tests.accounts.factories import TeamFactory, TeamMembershipFactory
from tests.core.test_jobs_and_scheduler import run_queued_tasks
from tests.mailserver import _free_port

pytestmark = pytest.mark.django_db(transaction=True)

NEW = b"""From: Riley Reed <riley@example.com>
To: support@example.com
Subject: VPN drops every few minutes
Message-ID: <first.riley@example.com>
Date: Thu, 26 Nov 2026 09:00:00 +0000
Content-Type: text/plain; charset=utf-8

Since this morning the VPN drops every few minutes.
"""


def answer(to_acknowledgement: str) -> bytes:
    return (
        "From: Riley Reed <riley@example.com>\r\n"
        "To: support@example.com\r\n"
        "Subject: Re: your ticket\r\n"
        "Message-ID: <second.riley@example.com>\r\n"
        f"In-Reply-To: {to_acknowledgement}\r\n"
        f"References: {to_acknowledgement}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "It happens on the office Wi-Fi only.\r\n\r\n"
        "On Thu, 26 Nov 2026 at 09:01, IT service desk wrote:\r\n> We have your request.\r\n"
    ).encode()


@pytest.fixture
def receiver(db):
    server = IntakeReceiver("127.0.0.1", _free_port())
    server.start()
    yield server.port
    server.stop()


def deliver(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("riley@example.com", ["support@example.com"], raw)


def test_mail_in_acknowledged_answered_and_answered_back_in_one_thread(receiver, smtp_server, make_user):
    team = TeamFactory(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex", email="alex@example.com")
    TeamMembershipFactory(team=team, user=agent)
    Mailbox.objects.create(name="Support", address="support@example.com", kind=MailboxKind.LMTP, team=team)

    deliver(receiver, NEW)
    ticket = Ticket.objects.get()
    assert ticket.channel == "email" and ticket.requester.email == "riley@example.com"
    run_queued_tasks()
    acknowledgement = next(m for m in smtp_server.messages if m["X-Envelope-To"] == "riley@example.com")
    assert f"[{ticket.number}]" in acknowledgement["Subject"]
    assert ticket_number_from_headers(acknowledgement["Message-ID"]) == ticket.number

    deliver(receiver, answer(acknowledgement["Message-ID"]))
    assert Ticket.objects.count() == 1  # the answer joined the ticket
    reply = ticket.events.filter(kind=EventKind.PUBLIC_REPLY).latest("created_at")
    assert "office Wi-Fi only" in reply.body and reply.author.email == "riley@example.com"

    smtp_server.messages.clear()
    desk_services.ticket_reply(actor=agent, ticket=ticket, body="Thanks, we will check the access points.")
    run_queued_tasks()
    (back,) = [m for m in smtp_server.messages if m["X-Envelope-To"] == "riley@example.com"]
    assert back["In-Reply-To"] == thread_id_for(ticket.number)
    assert ticket_number_from_headers(back["Message-ID"]) == ticket.number
