"""Retries with growing waits when the mail server refuses, failure after the last attempt,
and the outbox as administrators see it (and others do not)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.core.scheduler import _registered
from opsdesk.notifications import services
from opsdesk.notifications.choices import MessageStatus
from opsdesk.notifications.constants import MAX_ATTEMPTS
from opsdesk.notifications.models import OutboundMessage
from opsdesk.tickets import services as desk_services
from tests.mailserver import _free_port

pytestmark = pytest.mark.django_db


def reply_message(desk) -> OutboundMessage:
    ticket = desk_services.ticket_create(actor=desk.riley, title="VPN drops")
    desk_services.ticket_assign(actor=desk.alex, ticket=ticket, team=desk.team, assignee=desk.alex)
    event = desk_services.ticket_reply(actor=desk.alex, ticket=ticket, body="Please restart.")
    (pk,) = services.messages_prepare(event_id=event.pk)
    return OutboundMessage.objects.get(pk=pk)


def test_a_refused_message_is_retried_after_1_then_5_minutes_and_then_sent(desk, flaky_smtp):
    sink = flaky_smtp(refuse=2)
    message = reply_message(desk)
    start = timezone.now()
    assert services.message_deliver(message_id=message.pk, now=start) == MessageStatus.QUEUED
    message.refresh_from_db()
    assert message.attempts == 1 and "451" in message.last_error
    assert message.next_attempt_at == start + timedelta(minutes=1)
    # Not due yet: the sweep leaves it alone.
    assert services.messages_send_due(now=start + timedelta(seconds=30)) == {
        "sent": 0,
        "queued": 0,
        "failed": 0,
    }
    assert services.messages_send_due(now=start + timedelta(minutes=1))["queued"] == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == start + timedelta(minutes=1 + 5)
    assert services.messages_send_due(now=start + timedelta(minutes=6))["sent"] == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 3, "")
    assert [m["Subject"] for m in sink.messages] == [message.subject]
    assert sink.refused == 2


def test_after_the_last_attempt_the_message_fails_and_the_outbox_shows_it(desk, settings, client, make_user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    message = reply_message(desk)
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        services.message_deliver(message_id=message.pk, now=now)
        message.refresh_from_db()
        now = message.next_attempt_at or now
    assert message.status == MessageStatus.FAILED and message.attempts == MAX_ATTEMPTS
    assert message.next_attempt_at is None and "ConnectionRefusedError" in message.last_error

    admin = make_user(role=Role.ADMIN)
    client.force_login(admin)
    page = client.get("/notifications/outbox/?status=failed")
    assert page.status_code == 200
    assert "1 message failed" in page.content.decode() and message.address in page.content.decode()
    detail = client.get(f"/notifications/outbox/{message.pk}/").content.decode()
    assert "ConnectionRefusedError" in detail and "Retry now" in detail
    assert client.post(f"/notifications/outbox/{message.pk}/retry/").status_code == 302
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == MAX_ATTEMPTS - 1
    assert message.pk in services.messages_due()


def test_a_permanent_refusal_fails_at_once(desk, flaky_smtp):
    sink = flaky_smtp(refuse=0)

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"

    sink.handle_RCPT = refuse
    message = reply_message(desk)
    assert services.message_deliver(message_id=message.pk) == MessageStatus.FAILED
    message.refresh_from_db()
    assert message.attempts == 1 and "550" in message.last_error


def test_the_retry_sweep_is_scheduled_every_minute():
    spec = _registered["notification-retries"]
    assert (spec.task, spec.cron) == ("opsdesk.notifications.tasks.send_due_messages", "* * * * *")


def test_requesters_and_agents_cannot_see_the_outbox_or_templates(desk, client):
    reply_message(desk)
    for user in (desk.riley, desk.alex):
        client.force_login(user)
        for url in (
            "/notifications/outbox/",
            "/notifications/templates/",
            "/notifications/templates/reply/en/",
        ):
            assert client.get(url).status_code == 403, (user, url)
        message = OutboundMessage.objects.first()
        assert client.get(f"/notifications/outbox/{message.pk}/").status_code == 404
        assert client.post(f"/notifications/outbox/{message.pk}/retry/").status_code == 404


def test_an_auditor_reads_the_outbox_but_cannot_retry(desk, client, make_user):
    message = reply_message(desk)
    auditor = make_user(role=Role.AUDITOR)
    client.force_login(auditor)
    assert client.get("/notifications/outbox/").status_code == 200
    detail = client.get(f"/notifications/outbox/{message.pk}/").content.decode()
    assert "Retry now" not in detail
    assert client.post(f"/notifications/outbox/{message.pk}/retry/").status_code == 403
