"""Polling a real IMAP server (Debian's Dovecot on 127.0.0.1): fetch by UID, move only once
committed, UIDVALIDITY, password sign-in (XOAUTH2 needs an OAuth2 provider; not run here)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

from opsdesk.mail.choices import AfterProcessing, ImapSecurity, InboundStatus, MailboxKind
from opsdesk.mail.imap import ImapError, mailbox_test_connection, poll_mailbox
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.tickets.models import Ticket
from tests.mail.conftest import corpus
from tests.mail.dovecot import PASSWORD, USER, Dovecot, dovecot_binary


@pytest.fixture(scope="module")
def dovecot():
    if dovecot_binary() is None:
        if os.environ.get("OPSDESK_REQUIRE_DOVECOT") == "1":
            pytest.fail(
                "OPSDESK_REQUIRE_DOVECOT=1 but the dovecot binary is missing (apt-get install dovecot-imapd)"
            )
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd); IMAP tests skipped")
    # Not pytest's tmp_path: its parents are private to us, and Dovecot's users must reach the files.
    directory = Path(tempfile.mkdtemp(prefix="opsdesk-dovecot-"))
    directory.chmod(0o755)
    try:
        with Dovecot(directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def imap_client(server):
    client = MailBoxUnencrypted("127.0.0.1", server.port)
    client.login(USER, PASSWORD)
    return client


@pytest.fixture
def imap_mailbox(db, dovecot, desk_team):
    with imap_client(dovecot) as client:
        for folder in ("INBOX", "OpsDesk Processed"):
            if client.folder.exists(folder):
                client.folder.set(folder)
                uids = client.uids()
                if uids:
                    client.delete(uids)
        client.folder.set("INBOX")
    return Mailbox.objects.create(
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


def append(server, *names: str) -> None:
    with imap_client(server) as client:
        for name in names:
            client.append(corpus(name), "INBOX")


def folder_count(server, folder: str) -> int:
    with imap_client(server) as client:
        return client.folder.status(folder)["MESSAGES"] if client.folder.exists(folder) else 0


def test_poll_creates_tickets_moves_processed_mail_and_skips_known_uids(dovecot, imap_mailbox):
    append(dovecot, "alternative.eml", "auto-reply.eml", "alternative.eml")
    assert poll_mailbox(imap_mailbox) == 3
    statuses = list(InboundMessage.objects.order_by("imap_uid").values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.DUPLICATE]
    assert Ticket.objects.count() == 1
    assert folder_count(dovecot, "INBOX") == 0 and folder_count(dovecot, "OpsDesk Processed") == 3
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_uid == 3 and imap_mailbox.uidvalidity and imap_mailbox.last_poll_ok
    append(dovecot, "latin1.eml")
    assert poll_mailbox(imap_mailbox) == 1
    assert Ticket.objects.count() == 2


def test_delete_after_processing(dovecot, imap_mailbox):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(after_processing=AfterProcessing.DELETE)
    imap_mailbox.refresh_from_db()
    append(dovecot, "windows1252.eml")
    assert poll_mailbox(imap_mailbox) == 1
    assert folder_count(dovecot, "INBOX") == 0 and folder_count(dovecot, "OpsDesk Processed") == 0
    assert Ticket.objects.count() == 1


def test_a_changed_uidvalidity_reads_the_folder_again_without_duplicating(dovecot, imap_mailbox):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(after_processing=AfterProcessing.KEEP)
    imap_mailbox.refresh_from_db()
    append(dovecot, "shift-jis.eml")
    poll_mailbox(imap_mailbox)
    # As if the server had renumbered the folder since: our UIDs are from an older UIDVALIDITY.
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(uidvalidity=1, last_uid=99)
    InboundMessage.objects.update(uidvalidity=1)
    imap_mailbox.refresh_from_db()
    assert poll_mailbox(imap_mailbox) == 1
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.filter(status=InboundStatus.DUPLICATE).count() == 1


def test_connection_test_says_what_is_wrong(dovecot, imap_mailbox):
    assert "messages in INBOX" in mailbox_test_connection(imap_mailbox)
    imap_mailbox.password = "wrong"
    with pytest.raises(ImapError, match="refused the sign-in"):
        mailbox_test_connection(imap_mailbox)
    imap_mailbox.password, imap_mailbox.folder = PASSWORD, "Nope"
    with pytest.raises(ImapError, match="does not exist"):
        mailbox_test_connection(imap_mailbox)
