"""The e-mail intake screens: administrators keep mailboxes and handle the quarantine, managers
read, agents and requesters are refused; secrets never reach the browser; hostile HTML is shown
sanitized only; the raw message downloads as an attachment; "Test connection" answers in plain
words against a real Dovecot and a real receiver, never with a 500."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.mail.choices import ImapSecurity, InboundStatus, MailboxKind
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.mail.receiver import IntakeReceiver
from opsdesk.mail.services import mail_deliver
from opsdesk.tickets.models import Ticket
from tests.mail.conftest import corpus
from tests.mail.dovecot import PASSWORD, USER, Dovecot, dovecot_binary

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, admin):
    return {
        "admin": admin,
        "manager": make_user(role=Role.MANAGER, username="mona"),
        "agent": make_user(role=Role.AGENT, username="arno"),
        "requester": make_user(role=Role.REQUESTER, username="rita"),
    }


@pytest.fixture
def delivered(mailbox, settings):
    """One of each: a new ticket, a duplicate, an ignored auto-reply, a quarantined flood."""
    settings.MAIL_SENDER_RATE_PER_HOUR = 1
    processed = mail_deliver(mailbox=mailbox, raw=corpus("latin1.eml"))
    duplicate = mail_deliver(mailbox=mailbox, raw=corpus("latin1.eml"))
    ignored = mail_deliver(mailbox=mailbox, raw=corpus("auto-reply.eml"))
    quarantined = mail_deliver(mailbox=mailbox, raw=corpus("windows1252.eml", **{"bob@": "chloe@"}))
    assert (processed.status, duplicate.status, ignored.status, quarantined.status) == (
        InboundStatus.PROCESSED,
        InboundStatus.DUPLICATE,
        InboundStatus.IGNORED,
        InboundStatus.QUARANTINED,
    )
    return {"processed": processed, "duplicate": duplicate, "ignored": ignored, "quarantined": quarantined}


def page_text(response) -> str:
    return response.content.decode()


PAGES = [
    "mailbox_list",
    "mailbox_create",
    "mailbox_detail",
    "mailbox_edit",
    "mailbox_delete",
    "message_list",
    "message_detail",
]
EXPECTED = {
    "admin": dict.fromkeys(PAGES, 200),
    "manager": {
        **dict.fromkeys(PAGES, 200),
        "mailbox_create": 403,
        "mailbox_edit": 403,
        "mailbox_delete": 403,
    },
    "agent": {
        **dict.fromkeys(PAGES, 403),
        "mailbox_detail": 404,
        "mailbox_edit": 404,
        "mailbox_delete": 404,
        "message_detail": 404,
    },
    "requester": {
        **dict.fromkeys(PAGES, 403),
        "mailbox_detail": 404,
        "mailbox_edit": 404,
        "mailbox_delete": 404,
        "message_detail": 404,
    },
}


def url_of(name: str, mailbox: Mailbox, message: InboundMessage) -> str:
    if name in ("mailbox_list", "mailbox_create", "message_list"):
        return reverse(f"mail:{name}")
    return reverse(f"mail:{name}", args=[message.pk if name.startswith("message") else mailbox.pk])


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("name", PAGES)
def test_pages_answer_each_role_as_the_rules_say(client, people, mailbox, delivered, who, name):
    client.force_login(people[who])
    response = client.get(url_of(name, mailbox, delivered["quarantined"]))
    assert response.status_code == EXPECTED[who][name]


ACTIONS = {
    # (method, url name, on what): admin's answer; managers 403, agents and requesters 404
    "mailbox_test": ("post", "mailbox"),
    "message_retry": ("post", "quarantined"),
    "message_raw": ("get", "quarantined"),
    "mailbox_delete": ("post", "mailbox"),
}


@pytest.mark.parametrize("who", ["manager", "agent", "requester"])
@pytest.mark.parametrize("name", list(ACTIONS))
def test_actions_are_for_administrators_only(client, people, mailbox, delivered, who, name):
    method, target = ACTIONS[name]
    obj = mailbox if target == "mailbox" else delivered[target]
    client.force_login(people[who])
    response = getattr(client, method)(reverse(f"mail:{name}", args=[obj.pk]))
    assert response.status_code == (403 if who == "manager" else 404)
    assert Mailbox.objects.filter(pk=mailbox.pk).exists()
    assert InboundMessage.objects.get(pk=delivered["quarantined"].pk).status == InboundStatus.QUARANTINED


def test_test_and_retry_are_post_only(client, people, mailbox, delivered):
    client.force_login(people["admin"])
    assert client.get(reverse("mail:mailbox_test", args=[mailbox.pk])).status_code == 405
    assert client.get(reverse("mail:message_retry", args=[delivered["quarantined"].pk])).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in(client, mailbox, delivered):
    for name in ("mailbox_list", "message_list"):
        response = client.get(reverse(f"mail:{name}"))
        assert response.status_code == 302 and "login" in response["Location"]
    response = client.get(reverse("mail:message_raw", args=[delivered["processed"].pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_nav_names_resolve_and_the_models_link_to_the_screens(mailbox, delivered):
    assert mailbox.get_absolute_url() == reverse("mail:mailbox_detail", args=[mailbox.pk])
    message = delivered["processed"]
    assert message.get_absolute_url() == reverse("mail:message_detail", args=[message.pk])


# --- mailboxes ----------------------------------------------------------------------------------
def test_the_empty_list_explains_both_ways_in(client, people, settings):
    settings.SMTP_LISTEN = ""
    client.force_login(people["admin"])
    text = page_text(client.get(reverse("mail:mailbox_list")))
    assert "No mailbox yet" in text and "IMAP" in text and "Built-in receiver" in text
    assert "OPSDESK_SMTP_LISTEN" in text and "not set here yet" in text
    assert reverse("mail:mailbox_create") in text


def test_the_list_shows_the_last_poll_and_the_last_weeks_counts(
    client, people, mailbox, delivered, desk_team
):
    old = mail_deliver(mailbox=mailbox, raw=corpus("shift-jis.eml"))
    InboundMessage.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=8))
    failing = Mailbox.objects.create(
        name="Finance",
        address="finance@example.com",
        imap_host="imap.example.com",
        username="finance",
        password="x",
        team=desk_team,
    )
    Mailbox.objects.filter(pk=failing.pk).update(
        last_polled_at=timezone.now(), last_poll_ok=False, last_poll_message="The server refused the sign-in"
    )
    client.force_login(people["manager"])
    text = page_text(client.get(reverse("mail:mailbox_list")))
    row = re.search(rf'data-mailbox="{mailbox.pk}".*?</tr>', text, re.S).group(0)
    assert re.search(r"data-processed>.*?>1</a>", row, re.S)  # the 8-day-old one is not counted
    assert re.search(r"data-quarantined>.*?>1</a>", row, re.S)
    assert "Built-in receiver" in row and "Service Desk" in row
    imap_row = re.search(rf'data-mailbox="{failing.pk}".*?</tr>', text, re.S).group(0)
    assert "Failed" in imap_row and "The server refused the sign-in" in imap_row
    # Managers read; they get no "Add" button.
    assert reverse("mail:mailbox_create") not in text


IMAP_FORM = {
    "name": "IT mailbox",
    "address": "IT@Example.com",
    "kind": MailboxKind.IMAP,
    "is_active": "on",
    "ticket_type": "incident",
    "imap_host": "imap.example.com",
    "imap_port": "993",
    "imap_security": ImapSecurity.SSL,
    "imap_auth": "password",
    "username": "it@example.com",
    "password": "Hunter2-very-secret",
    "oauth2_token": "",
    "folder": "INBOX",
    "after_processing": "move",
    "processed_folder": "OpsDesk Processed",
}


def test_creating_and_editing_never_shows_the_password_and_blank_keeps_it(client, people, desk_team):
    client.force_login(people["admin"])
    response = client.post(reverse("mail:mailbox_create"), {**IMAP_FORM, "team": desk_team.pk})
    assert response.status_code == 302
    mailbox = Mailbox.objects.get(name="IT mailbox")
    assert mailbox.address == "it@example.com" and mailbox.password == "Hunter2-very-secret"
    assert mailbox.team == desk_team
    detail = page_text(client.get(mailbox.get_absolute_url()))
    assert "password stored (never shown)" in detail and "Hunter2" not in detail
    edit_url = reverse("mail:mailbox_edit", args=[mailbox.pk])
    form = page_text(client.get(edit_url))
    assert "Hunter2" not in form and "leave blank to keep it" in form
    response = client.post(
        edit_url,
        {**IMAP_FORM, "name": "IT", "password": "", "version": mailbox.version, "team": desk_team.pk},
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "IT" and mailbox.password == "Hunter2-very-secret"
    response = client.post(edit_url, {**IMAP_FORM, "password": "new-one", "version": mailbox.version})
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password == "new-one"


def test_an_imap_mailbox_without_a_password_or_with_a_taken_address_is_refused(client, people, mailbox):
    client.force_login(people["admin"])
    response = client.post(reverse("mail:mailbox_create"), {**IMAP_FORM, "password": ""})
    assert response.status_code == 400 and "Give the password" in page_text(response)
    response = client.post(reverse("mail:mailbox_create"), {**IMAP_FORM, "address": "SUPPORT@example.com"})
    assert response.status_code == 400 and "already exists" in page_text(response)
    assert Mailbox.objects.count() == 1


def test_a_stale_edit_is_refused_without_showing_any_secret(client, people, desk_team):
    client.force_login(people["admin"])
    client.post(reverse("mail:mailbox_create"), IMAP_FORM)
    mailbox = Mailbox.objects.get(name="IT mailbox")
    stale = mailbox.version
    client.post(
        reverse("mail:mailbox_edit", args=[mailbox.pk]),
        {**IMAP_FORM, "password": "changed-by-colleague", "version": stale},
    )
    response = client.post(
        reverse("mail:mailbox_edit", args=[mailbox.pk]),
        {**IMAP_FORM, "folder": "Support", "password": "mine-typed-now", "version": stale},
    )
    assert response.status_code == 409
    text = page_text(response)
    assert "Someone else changed this" in text
    for secret in ("changed-by-colleague", "mine-typed-now", "Hunter2"):
        assert secret not in text
    mailbox.refresh_from_db()
    assert mailbox.password == "changed-by-colleague" and mailbox.folder == "INBOX"


def test_a_mailbox_with_mail_is_not_deleted_but_an_unused_one_is(
    client, people, mailbox, delivered, desk_team
):
    client.force_login(people["admin"])
    detail = page_text(client.get(mailbox.get_absolute_url()))
    assert reverse("mail:mailbox_delete", args=[mailbox.pk]) not in detail
    response = client.post(reverse("mail:mailbox_delete", args=[mailbox.pk]), {"version": mailbox.version})
    assert response.status_code == 400 and "deactivate the mailbox instead" in page_text(response)
    assert Mailbox.objects.filter(pk=mailbox.pk).exists()
    unused = Mailbox.objects.create(name="Spare", address="spare@example.com", kind=MailboxKind.LMTP)
    response = client.post(reverse("mail:mailbox_delete", args=[unused.pk]), {"version": unused.version})
    assert response.status_code == 302 and not Mailbox.objects.filter(pk=unused.pk).exists()


def test_the_detail_shows_routing_receiver_setup_and_recent_messages(
    client, people, mailbox, delivered, settings
):
    settings.SMTP_LISTEN = "lmtp://127.0.0.1:2424"
    client.force_login(people["manager"])
    text = page_text(client.get(mailbox.get_absolute_url()))
    assert "lmtp://127.0.0.1:2424" in text and "support@example.com   lmtp:inet:" in text
    assert "Service Desk" in text
    for message in delivered.values():
        assert f'data-message="{message.pk}"' in text
    week = dict(re.findall(r'data-week="(\w+)".*?fw-semibold">(\d+)<', text, re.S))
    assert week == {"received": "0", "processed": "1", "duplicate": "1", "ignored": "1", "quarantined": "1"}
    assert "data-test-connection" not in text  # managers read only


# --- inbound messages ---------------------------------------------------------------------------
def listed_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-message="(\d+)"', page_text(response))]


def test_the_message_list_is_newest_first_and_filters(client, people, mailbox, delivered):
    client.force_login(people["manager"])
    url = reverse("mail:message_list")
    everything = listed_ids(client.get(url))
    assert everything == sorted((m.pk for m in delivered.values()), reverse=True)
    assert listed_ids(client.get(url, {"status": "quarantined"})) == [delivered["quarantined"].pk]
    assert listed_ids(client.get(url, {"sender": "BOB@EXAMPLE"})) == [delivered["ignored"].pk]
    assert listed_ids(client.get(url, {"mailbox": mailbox.pk})) == everything
    today = timezone.localdate()
    assert listed_ids(client.get(url, {"received_from": today.isoformat()})) == everything
    assert listed_ids(client.get(url, {"received_until": (today - timedelta(days=1)).isoformat()})) == []
    response = client.get(url, {"received_from": "not-a-date", "status": "nonsense", "mailbox": "x"})
    assert response.status_code == 200 and "data-quarantine-alert" in page_text(response)
    assert "1 message in quarantine" in page_text(client.get(url))


def test_the_list_pages_through_many_messages(client, people, mailbox, settings):
    settings.MAIL_SENDER_RATE_PER_HOUR = 0
    raw = corpus("latin1.eml")
    for n in range(30):
        mail_deliver(mailbox=mailbox, raw=raw.replace(b"Message-ID: <", f"Message-ID: <n{n}-".encode()))
    client.force_login(people["admin"])
    first = listed_ids(client.get(reverse("mail:message_list")))
    second = listed_ids(client.get(reverse("mail:message_list"), {"page": 2}))
    assert len(first) == 25 and len(second) == 5 and not set(first) & set(second)
    assert first[0] == InboundMessage.objects.order_by("-received_at", "-pk").first().pk


def test_a_hostile_message_is_shown_sanitized_only(client, people, mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus("hostile-html.eml"))
    client.force_login(people["admin"])
    text = page_text(client.get(reverse("mail:message_detail", args=[message.pk])))
    html = re.search(r"data-html>(.*?)</div>\s*<div class=\"card-footer", text, re.S).group(1)
    assert "click here" in html and 'href="https://example.org/help"' in html
    for bad in ("<script", "javascript:", "onload", "onerror", "onclick", "<iframe", "style=", "<svg"):
        assert bad not in html.lower()
    assert "alert(" not in text.split("data-headers")[0].split("data-html>")[1]
    assert message.ticket.number in text


def test_the_detail_shows_text_headers_attachments_and_the_ticket(client, people, mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus("attachment-names.eml"))
    client.force_login(people["manager"])
    text = page_text(client.get(reverse("mail:message_detail", args=[message.pk])))
    assert "Rechnung für März €" in text
    assert "Protokoll äöü.txt" in text and "Übersicht €.pdf" in text
    assert re.search(r"<th[^>]*>Message-ID</th>", text)
    assert f'href="{reverse("tickets:detail", args=[message.ticket.number])}"' in text and "(created)" in text
    # Managers neither retry nor download.
    assert reverse("mail:message_raw", args=[message.pk]) not in text


def test_a_reply_links_to_the_ticket_it_joined(client, people, mailbox):
    first = mail_deliver(mailbox=mailbox, raw=corpus("latin1.eml"))
    raw = corpus("latin1.eml").replace(b"Message-ID: <", b"Message-ID: <re-")
    raw = raw.replace(b"Subject: ", f"Subject: Re: [{first.ticket.number}] ".encode(), 1)
    reply = mail_deliver(mailbox=mailbox, raw=raw)
    assert reply.ticket == first.ticket and Ticket.objects.count() == 1
    client.force_login(people["admin"])
    text = page_text(client.get(reverse("mail:message_detail", args=[reply.pk])))
    assert first.ticket.number in text and "(a reply)" in text


def test_a_duplicate_points_at_its_original(client, people, delivered):
    client.force_login(people["admin"])
    duplicate, original = delivered["duplicate"], delivered["processed"]
    text = page_text(client.get(reverse("mail:message_detail", args=[duplicate.pk])))
    assert f'href="{reverse("mail:message_detail", args=[original.pk])}"' in text
    assert "keeps no copy of its own" in text
    assert client.get(reverse("mail:message_raw", args=[duplicate.pk])).status_code == 404
    original_page = page_text(client.get(reverse("mail:message_detail", args=[original.pk])))
    assert reverse("mail:message_detail", args=[duplicate.pk]) in original_page


def test_an_administrator_retries_a_quarantined_message_once(client, people, delivered, settings):
    quarantined = delivered["quarantined"]
    client.force_login(people["admin"])
    url = reverse("mail:message_detail", args=[quarantined.pk])
    text = page_text(client.get(url))
    assert "rate limit" in text and reverse("mail:message_retry", args=[quarantined.pk]) in text
    response = client.post(reverse("mail:message_retry", args=[quarantined.pk]), follow=True)
    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.PROCESSED and quarantined.ticket is not None
    assert f"Processed into {quarantined.ticket.number}" in page_text(response)
    tickets = Ticket.objects.count()
    response = client.post(reverse("mail:message_retry", args=[quarantined.pk]), follow=True)
    assert "Only quarantined messages are retried" in page_text(response)
    assert Ticket.objects.count() == tickets


def test_the_raw_message_downloads_as_an_attachment_for_administrators(client, people, delivered):
    message = delivered["processed"]
    client.force_login(people["admin"])
    response = client.get(reverse("mail:message_raw", args=[message.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"message-{message.pk}.eml" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == corpus("latin1.eml")


# --- "Test connection" --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dovecot():
    if dovecot_binary() is None:
        if os.environ.get("OPSDESK_REQUIRE_DOVECOT") == "1":
            pytest.fail("OPSDESK_REQUIRE_DOVECOT=1 but the dovecot binary is missing")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd); IMAP tests skipped")
    directory = Path(tempfile.mkdtemp(prefix="opsdesk-dovecot-views-"))
    directory.chmod(0o755)
    try:
        with Dovecot(directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_test(client, mailbox) -> str:
    response = client.post(reverse("mail:mailbox_test", args=[mailbox.pk]), follow=True)
    assert response.status_code == 200
    return page_text(response)


def test_connection_test_against_dovecot_says_what_is_wrong_in_plain_words(
    client, people, dovecot, desk_team
):
    mailbox = Mailbox.objects.create(
        name="IMAP desk",
        address=USER,
        kind=MailboxKind.IMAP,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security=ImapSecurity.NONE,
        username=USER,
        password=PASSWORD,
        team=desk_team,
    )
    client.force_login(people["admin"])
    assert "data-test-connection" in page_text(client.get(mailbox.get_absolute_url()))
    text = run_test(client, mailbox)
    assert (
        "Connection test passed." in text and f"Signed in as {USER}" in text and "messages in INBOX" in text
    )

    Mailbox.objects.filter(pk=mailbox.pk).update(password="wrong")
    text = run_test(client, mailbox)
    assert "Connection test failed." in text and f"The server refused the sign-in of {USER}" in text
    assert "Authentication failed" in text and "Response status" not in text

    Mailbox.objects.filter(pk=mailbox.pk).update(password=PASSWORD, folder="Nowhere")
    text = run_test(client, mailbox)
    assert "Connection test failed." in text and "the folder “Nowhere” does not exist" in text

    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    text = run_test(client, mailbox)
    assert "Connection test failed." in text and "Cannot connect to 127.0.0.1" in text

    # A TLS client talking to a plain-text server: an error in words, not a 500.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=dovecot.port, imap_security=ImapSecurity.SSL)
    text = run_test(client, mailbox)
    assert "Connection test failed." in text
    # The test changes nothing: no poll was recorded.
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is None and mailbox.last_uid == 0


def test_connection_test_of_a_receiver_mailbox_without_a_receiver(client, people, mailbox, settings):
    settings.SMTP_LISTEN = ""
    client.force_login(people["admin"])
    text = run_test(client, mailbox)
    assert "Connection test failed." in text and "OPSDESK_SMTP_LISTEN is not set" in text
    settings.SMTP_LISTEN = f"127.0.0.1:{free_port()}"
    text = run_test(client, mailbox)
    assert "Nothing answers as an SMTP receiver" in text


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lmtp", [False, True])
def test_connection_test_asks_the_running_receiver_about_the_address(client, people, mailbox, settings, lmtp):
    port = free_port()
    server = IntakeReceiver("127.0.0.1", port, lmtp=lmtp)
    server.start()
    try:
        settings.SMTP_LISTEN = f"{'lmtp://' if lmtp else ''}127.0.0.1:{port}"
        client.force_login(people["admin"])
        text = run_test(client, mailbox)
        assert "Connection test passed." in text
        assert f"The {'LMTP' if lmtp else 'SMTP'} receiver at 127.0.0.1:{port} accepts mail for" in text
        Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
        text = run_test(client, mailbox)
        assert "Connection test failed." in text and "the mailbox is inactive" in text
    finally:
        server.stop()
    assert InboundMessage.objects.count() == 0  # nothing was sent
