"""The SMTP/LMTP receiver over real sockets, duplicates, concurrent deliveries and the rate limit."""

from __future__ import annotations

import smtplib
import socket
import threading

import pytest
from django.db import connection, connections

from opsdesk.mail.choices import InboundStatus
from opsdesk.mail.models import InboundMessage
from opsdesk.mail.receiver import TOO_BIG, IntakeReceiver, parse_listen
from opsdesk.mail.services import mail_deliver
from opsdesk.tickets.models import Ticket
from tests.mail.conftest import corpus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def needs_two_connections():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("two connections need a file or server database")


@pytest.fixture
def receiver(request, mailbox):
    lmtp = getattr(request, "param", False)
    server = IntakeReceiver("127.0.0.1", free_port(), lmtp=lmtp, max_bytes=200_000)
    server.start()
    yield server
    server.stop()


def test_listen_setting_names_the_protocol():
    assert parse_listen("127.0.0.1:2525") == ("127.0.0.1", 2525, False)
    assert parse_listen("lmtp://[::1]:24") == ("::1", 24, True)
    with pytest.raises(ValueError, match="host:port"):
        parse_listen("2525")


@pytest.mark.django_db(transaction=True)
def test_smtp_delivery_creates_a_ticket_and_refuses_strangers_and_big_mail(receiver):
    with smtplib.SMTP("127.0.0.1", receiver.port) as client:
        _code, features = client.ehlo()
        assert b"SIZE 200000" in features
        client.sendmail("ann@example.org", ["support@example.com"], corpus("alternative.eml"))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("ann@example.org", ["nobody@example.com"], corpus("alternative.eml"))
        assert refused.value.recipients["nobody@example.com"][0] == 550
        big = corpus("alternative.eml") + b"x" * 300_000 + b"\r\n"
        with pytest.raises(smtplib.SMTPResponseException) as too_big:
            client.sendmail("ann@example.org", ["support@example.com"], big)
        assert too_big.value.smtp_code == 552
        assert TOO_BIG.split(" ", 1)[1].encode() in too_big.value.smtp_error
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.PROCESSED and message.envelope_from == "ann@example.org"
    assert Ticket.objects.get().title == "Printer on floor 3 is jammed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("receiver", [True], indirect=True)
def test_lmtp_answers_per_recipient_and_a_redelivery_creates_nothing(receiver):
    with smtplib.LMTP("127.0.0.1", receiver.port) as client:
        client.sendmail("ann@example.org", ["support@example.com"], corpus("nested-inline-image.eml"))
        client.sendmail("ann@example.org", ["support@example.com"], corpus("nested-inline-image.eml"))
        # A bounce (empty return path) is stored and ignored.
        client.sendmail("", ["support@example.com"], corpus("no-message-id.eml"))
    statuses = list(InboundMessage.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.DUPLICATE, InboundStatus.IGNORED]
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_same_message_id_twice_is_one_ticket(mailbox):
    first = mail_deliver(mailbox=mailbox, raw=corpus("latin1.eml"))
    second = mail_deliver(mailbox=mailbox, raw=corpus("latin1.eml"))
    assert second.status == InboundStatus.DUPLICATE and second.duplicate_of == first
    assert second.ticket == first.ticket and Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_create_one_ticket(mailbox):
    needs_two_connections()
    barrier = threading.Barrier(2)
    results = []

    def deliver():
        try:
            barrier.wait()
            results.append(mail_deliver(mailbox=mailbox, raw=corpus("windows1252.eml")).status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [InboundStatus.DUPLICATE, InboundStatus.PROCESSED]
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_a_flooding_sender_is_quarantined_then_released_by_an_admin(mailbox, settings, admin):
    from opsdesk.mail.services import inbound_retry

    settings.MAIL_SENDER_RATE_PER_HOUR = 2
    outcomes = [
        mail_deliver(mailbox=mailbox, raw=corpus("no-message-id.eml", **{"No id": f"No id {n}"}))
        for n in range(3)
    ]
    assert [item.status for item in outcomes] == [InboundStatus.PROCESSED] * 2 + [InboundStatus.QUARANTINED]
    assert outcomes[2].reason.startswith("rate limit")
    released = inbound_retry(actor=admin, message=outcomes[2])
    assert released.status == InboundStatus.PROCESSED and released.attempts == 2
    assert Ticket.objects.count() == 3
