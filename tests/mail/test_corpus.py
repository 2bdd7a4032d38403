"""Every message of the corpus, delivered to a mailbox, with the outcome a desk expects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opsdesk.mail.choices import InboundStatus
from opsdesk.mail.parsing import parse_message
from opsdesk.mail.services import mail_deliver
from opsdesk.tickets.choices import Channel, EventKind
from opsdesk.tickets.mail_threading import message_id_for
from opsdesk.tickets.models import Ticket
from tests.mail.conftest import CORPUS, corpus

PUBLIC_CORPORA = Path(
    os.environ.get("OPSDESK_EMAIL_CORPORA")
    or Path(__file__).resolve().parents[3] / "shared/data/email-corpora"
)

# file → (status, title or None, attachment names on the ticket, words in the description)
NEW_TICKETS = {
    "alternative.eml": ("Printer on floor 3 is jammed", [], ["floor 3", "jammed"]),
    "nested-inline-image.eml": (
        "Screenshot of the VPN error",
        ["Fehlerprotokoll für März.pdf", "screenshot.png"],
        ["VPN client"],
    ),
    "attachment-names.eml": ("Rechnung für März €", ["Protokoll äöü.txt", "Übersicht €.pdf"], ["Rechnung"]),
    "latin1.eml": ("Problème d'écran", [], ["L'écran de mon portable reste noir après la mise à jour."]),
    "windows1252.eml": ("Quotes", [], ["“smart quotes” cost € 5 – and"]),
    "utf8-base64.eml": ("Не работает почта", [], ["Почта не отправляется с утра."]),
    "shift-jis.eml": ("パスワード", [], ["パスワードをリセットしてください。"]),
    "unknown-charset.eml": ("Odd charset", [], ["Café machine broken"]),
    "forward.eml": ("Fwd: Your licence expires soon", [], ["renew this", "expires on 30 June"]),
    "parts-500.eml": ("Five hundred parts", None, ["Logs attached"]),
    "headers-1mb.eml": ("Big headers", [], ["The body after a megabyte of headers."]),
    "malformed-mime.eml": ("Broken message", [], ["The text before a broken attachment."]),
    "no-message-id.eml": ("No id", [], ["without a Message-ID"]),
    "helpdesk-forwarded-message.eml": (None, None, []),
    "helpdesk-quoted_printable.eml": (None, None, []),
    "helpdesk-utf-nondecodable.eml": (None, None, []),
}
IGNORED = {
    "auto-reply.eml": "Auto-Submitted: auto-replied",
    "precedence-bulk.eml": "Precedence: bulk",
    "x-autoreply.eml": "X-Autoreply header",
    "dsn-bounce.eml": "delivery report (delivery-status)",
    "from-ourselves.eml": "our own address",
}


def test_every_corpus_file_has_an_expected_outcome():
    named = (
        set(NEW_TICKETS)
        | set(IGNORED)
        | {
            "reply-gmail.eml",
            "reply-outlook.eml",
            "reply-outlook-from-block.eml",
            "reply-stranger.eml",
            "hostile-html.eml",
            "missing-headers.eml",
        }
    )
    assert {path.name for path in CORPUS.glob("*.eml")} == named


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(NEW_TICKETS))
def test_new_message_becomes_a_ticket(name, mailbox):
    title, attachments, words = NEW_TICKETS[name]
    message = mail_deliver(mailbox=mailbox, raw=corpus(name))
    assert message.status == InboundStatus.PROCESSED, message.reason
    ticket = message.ticket
    assert ticket.channel == Channel.EMAIL
    assert ticket.assigned_team == mailbox.team
    assert ticket.requester.email == message.from_address
    if title is not None:
        assert ticket.title == title
    if attachments is not None:
        assert sorted(ticket.attachments.values_list("original_name", flat=True)) == attachments
    for word in words:
        assert word in ticket.description
    assert message.raw.size == message.size and message.sha256


@pytest.mark.django_db
def test_five_hundred_parts_are_all_attached(mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus("parts-500.eml"))
    assert message.ticket.attachments.count() == 499


@pytest.mark.django_db
def test_unknown_charset_and_malformed_mime_are_noted(mailbox):
    unknown = mail_deliver(mailbox=mailbox, raw=corpus("unknown-charset.eml"))
    assert any("Unknown charset" in note for note in unknown.notes)
    broken = mail_deliver(mailbox=mailbox, raw=corpus("malformed-mime.eml"))
    assert any("Malformed" in note for note in broken.notes)
    # The undecodable attachment is left out and said so on the ticket; the raw message keeps it.
    assert "broken.pdf" in broken.ticket.description


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(IGNORED))
def test_machine_mail_makes_no_ticket(name, mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus(name))
    assert message.status == InboundStatus.IGNORED
    assert IGNORED[name] in message.reason
    assert message.ticket is None and Ticket.objects.count() == 0


@pytest.mark.django_db
def test_hostile_html_is_sanitized(mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus("hostile-html.eml"))
    html = message.ticket.description_html
    for bad in (
        "<script",
        "javascript:",
        "onload",
        "onerror",
        "onclick",
        "<iframe",
        "<style",
        "position:fixed",
        "<svg",
    ):
        assert bad not in html.lower()
    assert 'href="https://example.org/help"' in html and "click here" in html


@pytest.mark.django_db
def test_message_without_sender_is_quarantined_not_lost(mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus("missing-headers.eml"))
    assert message.status == InboundStatus.QUARANTINED
    assert "From" in message.reason
    assert message.raw.read() == corpus("missing-headers.eml")


@pytest.fixture
def open_ticket(mailbox):
    message = mail_deliver(mailbox=mailbox, raw=corpus("alternative.eml"))
    return message.ticket


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "new_part", "folded"),
    [
        ("reply-gmail.eml", "Thanks, it works again after the restart.", "Please restart the printer"),
        (
            "reply-outlook.eml",
            "It jammed again this morning.\n\nAnn Example\nIT Coordinator",
            "-----Original Message-----",
        ),
        ("reply-outlook-from-block.eml", "Any news?", "Ann Example | Finance"),
    ],
)
def test_reply_lands_on_its_ticket_with_the_quote_folded(name, new_part, folded, open_ticket, mailbox):
    raw = corpus(
        name, **{"[TICKET]": f"[{open_ticket.number}]", "<REPLYTO>": message_id_for(open_ticket.number)}
    )
    message = mail_deliver(mailbox=mailbox, raw=raw)
    assert message.status == InboundStatus.PROCESSED, message.reason
    assert message.ticket == open_ticket and Ticket.objects.count() == 1
    event = message.event
    assert event.kind == EventKind.PUBLIC_REPLY and event.author == open_ticket.requester
    assert event.body == new_part
    assert "<details" in event.body_html and "Show quoted text" in event.body_html
    assert folded in event.body_html.split("<details", 1)[1]


@pytest.mark.django_db
def test_spoofed_reply_from_a_stranger_gets_a_new_ticket(open_ticket, mailbox):
    raw = corpus(
        "reply-stranger.eml",
        **{"[TICKET]": f"[{open_ticket.number}]", "<REPLYTO>": message_id_for(open_ticket.number)},
    )
    message = mail_deliver(mailbox=mailbox, raw=raw)
    assert message.status == InboundStatus.PROCESSED
    assert message.ticket != open_ticket
    assert message.ticket.requester.email == "mallory@evil.example.net"
    open_ticket.refresh_from_db()
    assert not open_ticket.watchers.exists()
    assert not open_ticket.events.filter(kind=EventKind.PUBLIC_REPLY).exists()
    assert any(open_ticket.number in note for note in message.notes)


def test_public_corpora_parse_without_an_exception():
    if not PUBLIC_CORPORA.is_dir():
        pytest.skip(f"{PUBLIC_CORPORA} is not on this machine")
    files = [
        path for path in PUBLIC_CORPORA.rglob("*") if path.suffix in (".eml", ".txt") and path.name[0] != "R"
    ]
    assert len(files) > 50
    for path in files:
        parsed = parse_message(path.read_bytes())
        assert isinstance(parsed.body_text, str) and isinstance(parsed.subject, str)
