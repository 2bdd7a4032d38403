"""Who gets which e-mail for each ticket event, with which headers, through the real worker
and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from django.db import transaction

from opsdesk.notifications import services
from opsdesk.notifications.choices import MessageStatus, NotificationEvent
from opsdesk.notifications.models import OutboundMessage
from opsdesk.tickets import services as desk_services
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.mail_threading import thread_id_for, ticket_number_from_headers
from opsdesk.tickets.services.lifecycle import record_event
from tests.core.test_jobs_and_scheduler import run_queued_tasks


def envelope(messages) -> list[str]:
    return sorted(message["X-Envelope-To"] for message in messages)


def assigned_ticket(desk, **fields):
    ticket = desk_services.ticket_create(actor=desk.riley, title=fields.pop("title", "VPN drops"), **fields)
    desk_services.ticket_assign(actor=desk.alex, ticket=ticket, team=desk.team, assignee=desk.alex)
    return ticket


@pytest.mark.django_db(transaction=True)
def test_an_agents_reply_reaches_the_requester_and_watchers_threaded_and_nobody_else(desk, smtp_server):
    ticket = assigned_ticket(desk, watchers=[desk.wendy])
    run_queued_tasks()
    smtp_server.messages.clear()
    desk_services.ticket_reply(
        actor=desk.alex, ticket=ticket, body="Please **restart** the client.\n\n<script>alert(1)</script>"
    )
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["riley@example.com", "wendy@example.com"]
    message = next(m for m in smtp_server.messages if m["X-Envelope-To"] == "riley@example.com")
    assert message["Subject"] == f"Re: [{ticket.number}] VPN drops"
    assert ticket_number_from_headers(message["Message-ID"]) == ticket.number
    assert message["In-Reply-To"] == thread_id_for(ticket.number) == message["References"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"]
    assert message["List-Id"] is None
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Please **restart** the client." in text and "Hello" not in text.splitlines()[0]
    assert "<strong>restart</strong>" in html and "<script>" not in html
    assert f"/tickets/{ticket.number}/" in text
    stored = OutboundMessage.objects.get(address="riley@example.com", kind=NotificationEvent.REPLY)
    assert (
        stored.status == MessageStatus.SENT
        and stored.attempts == 1
        and stored.message_id == message["Message-ID"]
    )


@pytest.mark.django_db(transaction=True)
def test_a_requesters_reply_goes_to_the_assignee_or_else_to_the_whole_team(desk, smtp_server):
    ticket = assigned_ticket(desk)
    run_queued_tasks()
    smtp_server.messages.clear()
    desk_services.ticket_reply(actor=desk.riley, ticket=ticket, body="Still broken")
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["alex@example.com"]

    desk.team.email = "desk@example.com"
    desk.team.save()
    unassigned = desk_services.ticket_create(actor=desk.riley, title="Printer")
    desk_services.ticket_assign(actor=desk.lead, ticket=unassigned, team=desk.team)
    run_queued_tasks()
    smtp_server.messages.clear()
    desk_services.ticket_reply(actor=desk.riley, ticket=unassigned, body="Any news?")
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["alex@example.com", "desk@example.com", "sam@example.com"]


@pytest.mark.django_db(transaction=True)
def test_internal_notes_are_never_mailed(desk, smtp_server):
    ticket = assigned_ticket(desk, watchers=[desk.wendy])
    run_queued_tasks()
    smtp_server.messages.clear()
    desk_services.ticket_reply(actor=desk.sam, ticket=ticket, body="Secret: the VPN box is EOL", public=False)
    run_queued_tasks()
    assert smtp_server.messages == []
    assert not OutboundMessage.objects.filter(body_text__contains="Secret").exists()


@pytest.mark.django_db(transaction=True)
def test_assignment_tells_the_new_assignee_only_and_never_the_actor(desk, smtp_server):
    ticket = desk_services.ticket_create(actor=desk.riley, title="Laptop")
    run_queued_tasks()
    assert smtp_server.messages == []  # the requester raised it: nobody else to tell yet
    desk_services.ticket_assign(actor=desk.lead, ticket=ticket, team=desk.team, assignee=desk.sam)
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["sam@example.com"]
    assert smtp_server.messages[0]["Subject"] == f"[{ticket.number}] assigned to you: Laptop"
    smtp_server.messages.clear()
    desk_services.ticket_assign(actor=desk.alex, ticket=ticket, team=desk.team, assignee=desk.alex)
    run_queued_tasks()
    assert smtp_server.messages == []  # Alex took it himself


@pytest.mark.django_db(transaction=True)
def test_a_ticket_logged_for_someone_tells_them(desk, smtp_server):
    ticket = desk_services.ticket_create(actor=desk.alex, requester=desk.riley, title="New starter")
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["riley@example.com"]
    assert "logged" in smtp_server.messages[0].get_body(("plain",)).get_content()
    assert smtp_server.messages[0]["Subject"] == f"[{ticket.number}] New starter"


@pytest.mark.django_db(transaction=True)
def test_status_changes_and_resolution_reach_the_requester_side_without_doubling_the_survey(
    desk, smtp_server
):
    ticket = assigned_ticket(desk, watchers=[desk.wendy])
    run_queued_tasks()
    # A colleague the requester copied hears that the ticket exists; the requester knows already.
    assert envelope(smtp_server.messages) == ["wendy@example.com"]
    smtp_server.messages.clear()
    desk_services.ticket_transition(actor=desk.alex, ticket=ticket, to=Status.IN_PROGRESS)
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["riley@example.com", "wendy@example.com"]
    assert "now in progress" in smtp_server.messages[0]["Subject"]
    smtp_server.messages.clear()
    desk_services.ticket_transition(
        actor=desk.alex,
        ticket=ticket,
        to=Status.RESOLVED,
        resolution_code="solved",
        resolution_notes="New client.",
    )
    run_queued_tasks()
    run_queued_tasks()
    subjects = {message["X-Envelope-To"]: message["Subject"] for message in smtp_server.messages}
    # The requester gets the desk's survey e-mail (which says it is resolved), not a second one.
    assert subjects == {
        "riley@example.com": f"[{ticket.number}] How did we do? VPN drops",
        "wendy@example.com": f"[{ticket.number}] resolved: VPN drops",
    }
    wendy = next(m for m in smtp_server.messages if m["X-Envelope-To"] == "wendy@example.com")
    assert "New client." in wendy.get_body(("plain",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_an_sla_warning_goes_to_the_assignee_and_a_breach_to_the_lead_too(desk, smtp_server):
    ticket = assigned_ticket(desk)
    run_queued_tasks()
    smtp_server.messages.clear()
    with transaction.atomic():
        record_event(
            ticket,
            EventKind.SLA,
            None,
            body="Gold: 80 % of the resolution target is used.",
            data={"percent": [80]},
        )
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["alex@example.com"]
    assert "80 % of the resolution target" in smtp_server.messages[0].get_body(("plain",)).get_content()
    smtp_server.messages.clear()
    with transaction.atomic():
        record_event(ticket, EventKind.SLA, None, body="Gold: breached.", data={"percent": [100]})
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["alex@example.com", "lead@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_tells_nobody(desk, smtp_server):
    ticket = assigned_ticket(desk)
    run_queued_tasks()
    smtp_server.messages.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        desk_services.ticket_reply(actor=desk.alex, ticket=ticket, body="Never sent")
        raise RuntimeError("the request failed later")
    run_queued_tasks()
    assert smtp_server.messages == [] and not OutboundMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_someone_who_opted_out_gets_nothing(desk, smtp_server):
    services.preferences_save(actor=desk.riley, user=desk.riley, choices={"reply": False})
    ticket = assigned_ticket(desk, watchers=[desk.wendy])
    run_queued_tasks()
    smtp_server.messages.clear()
    desk_services.ticket_reply(actor=desk.alex, ticket=ticket, body="Try again now")
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["wendy@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_crlf_in_the_title_cannot_add_headers_or_recipients(desk, smtp_server):
    ticket = desk_services.ticket_create(
        actor=desk.alex, requester=desk.riley, title="Printer\r\nBcc: evil@example.com\x00\nX-Evil: 1"
    )
    run_queued_tasks()
    assert envelope(smtp_server.messages) == ["riley@example.com"]
    message = smtp_server.messages[0]
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Subject"] == f"[{ticket.number}] Printer Bcc: evil@example.com X-Evil: 1"


@pytest.mark.django_db
def test_each_event_is_prepared_once_even_when_its_job_runs_twice(desk, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket = assigned_ticket(desk, watchers=[desk.wendy])
    event = desk_services.ticket_reply(actor=desk.alex, ticket=ticket, body="Hello")
    first = services.messages_prepare(event_id=event.pk)
    again = services.messages_prepare(event_id=event.pk)
    assert len(first) == 2 and sorted(first) == sorted(again)
    assert OutboundMessage.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_the_recipients_language_picks_the_template(desk, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    desk.riley.language = "de"
    desk.riley.save()
    ticket = assigned_ticket(desk, watchers=[desk.wendy])
    event = desk_services.ticket_reply(actor=desk.alex, ticket=ticket, body="Bitte neu starten")
    services.messages_prepare(event_id=event.pk)
    german = OutboundMessage.objects.get(address="riley@example.com")
    english = OutboundMessage.objects.get(address="wendy@example.com")
    assert german.language == "de" and "schrieb zu" in german.body_text
    assert english.language == "en" and "wrote on" in english.body_text
