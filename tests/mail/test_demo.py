"""The demo mailbox: created once, its messages delivered once through the real intake, each
with the outcome the screens are meant to show."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel as AuditChannel
from opsdesk.mail.choices import InboundStatus, MailboxKind
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.tickets.choices import Channel, EventKind, TicketType
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_create
from opsdesk.web.demo import mail, people

pytestmark = pytest.mark.django_db


def load(admin):
    # As `opsdesk demo` runs it: one transaction, the CLI channel, the admin acting.
    with transaction.atomic(), acting(channel=AuditChannel.CLI), acting(actor=admin):
        return mail.load_mailboxes(admin)


@pytest.fixture
def demo_people(db):
    with acting(channel=AuditChannel.CLI):
        admin = people.load_admin()
        with acting(actor=admin):
            people.load_people(admin)
    return admin


@pytest.fixture
def riley_ticket(demo_people):
    riley = User.objects.get(username="requester")
    return ticket_create(
        actor=riley,
        requester=riley,
        title="Docking station not detected",
        description="The monitors stay dark.",
    )


def statuses() -> dict[str, str]:
    return dict(InboundMessage.objects.values_list("message_id", "status"))


def test_the_demo_mailbox_and_its_messages_load_once(demo_people, riley_ticket):
    assert load(demo_people) == 4
    mailbox = Mailbox.objects.get()
    assert (mailbox.name, mailbox.address, mailbox.kind) == (
        "Support",
        "support@example.com",
        MailboxKind.LMTP,
    )
    assert mailbox.team.name == "Service Desk" and mailbox.ticket_type == TicketType.INCIDENT
    assert statuses() == {
        "<demo-new-request@mail.example.com>": InboundStatus.PROCESSED,
        "<demo-requester-reply@mail.example.com>": InboundStatus.PROCESSED,
        "<demo-out-of-office@mail.example.com>": InboundStatus.IGNORED,
        "<demo-scanner@printers.example.com>": InboundStatus.QUARANTINED,
    }
    tickets = Ticket.objects.count()
    assert load(demo_people) == 0
    assert Mailbox.objects.count() == 1 and InboundMessage.objects.count() == 4
    assert Ticket.objects.count() == tickets
    assert not InboundMessage.objects.filter(status=InboundStatus.DUPLICATE).exists()


def test_each_demo_message_ends_as_the_screens_show_it(demo_people, riley_ticket):
    load(demo_people)
    by_id = {message.message_id: message for message in InboundMessage.objects.select_related("ticket")}
    new = by_id["<demo-new-request@mail.example.com>"]
    assert new.ticket.title == "Excel closes when I open the Q3 forecast"
    assert new.ticket.requester.username == "chen" and new.ticket.channel == Channel.EMAIL
    assert new.ticket.assigned_team.name == "Service Desk"
    assert [a.original_name for a in new.ticket.attachments.all()] == ["excel-crash.txt"]

    reply = by_id["<demo-requester-reply@mail.example.com>"]
    assert reply.ticket == riley_ticket and reply.event.kind == EventKind.PUBLIC_REPLY
    assert "still happens" in reply.event.body and "Your request" not in reply.event.body
    assert "Show quoted text" in reply.event.body_html

    ignored = by_id["<demo-out-of-office@mail.example.com>"]
    assert ignored.ticket is None and "Auto-Submitted: auto-replied" in ignored.reason

    scanner = by_id["<demo-scanner@printers.example.com>"]
    assert scanner.ticket is None and scanner.reason == "The message has no usable From address."
    assert scanner.envelope_from == "scanner@printers.example.com"


def test_without_an_open_demo_ticket_the_reply_is_left_out(demo_people):
    assert load(demo_people) == 3
    assert "<demo-requester-reply@mail.example.com>" not in statuses()
    riley = User.objects.get(username="requester")
    ticket_create(actor=riley, requester=riley, title="VPN drops every hour")
    assert load(demo_people) == 1  # once a ticket is there, the reply joins it
    assert statuses()["<demo-requester-reply@mail.example.com>"] == InboundStatus.PROCESSED


def test_the_screens_list_the_demo_messages(client, demo_people, riley_ticket):
    load(demo_people)
    client.force_login(demo_people)
    listing = client.get(reverse("mail:message_list")).content.decode()
    for status in ("processed", "ignored", "quarantined"):
        assert f'data-status="{status}"' in listing
    mailboxes = client.get(reverse("mail:mailbox_list")).content.decode()
    assert "support@example.com" in mailboxes and "Built-in receiver" in mailboxes
    scanner = InboundMessage.objects.get(message_id="<demo-scanner@printers.example.com>")
    page = client.get(reverse("mail:message_detail", args=[scanner.pk])).content.decode()
    assert "SKM_C300i_scan.pdf" in page and "no usable From address" in page
