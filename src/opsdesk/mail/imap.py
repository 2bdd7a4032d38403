"""Polling IMAP mailboxes with imap-tools.

Each poll signs in (password or OAuth2 XOAUTH2), reads the folder's UIDVALIDITY, fetches the
messages above the last UID seen (all of them again when UIDVALIDITY changed: Message-IDs keep
that from creating anything twice), and for each one stores and processes it; only once that
is committed does it move, delete or flag the message on the server. The poll runs every
minute; where the server offers IMAP IDLE, ``mail.idle`` runs it the moment mail arrives.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxFolderSelectError

from opsdesk.mail.choices import IMAP_BATCH, IMAP_TIMEOUT_SECONDS, AfterProcessing, ImapAuth, ImapSecurity
from opsdesk.mail.models import Mailbox
from opsdesk.mail.services import mail_deliver, mailbox_record_poll

logger = logging.getLogger("opsdesk.mail.imap")
LEASE = timedelta(minutes=10)


class ImapError(Exception):
    """A mailbox could not be read; the message says why, for the admin."""


def connect(mailbox: Mailbox):
    """An open, signed-in connection with the mailbox's folder selected."""
    try:
        if mailbox.imap_security == ImapSecurity.SSL:
            client = MailBox(mailbox.imap_host, mailbox.port, timeout=IMAP_TIMEOUT_SECONDS)
        elif mailbox.imap_security == ImapSecurity.STARTTLS:
            client = MailBoxStartTls(
                mailbox.imap_host,
                mailbox.port,
                timeout=IMAP_TIMEOUT_SECONDS,
                ssl_context=ssl.create_default_context(),
            )
        else:
            client = MailBoxUnencrypted(mailbox.imap_host, mailbox.port, timeout=IMAP_TIMEOUT_SECONDS)
    except (OSError, ssl.SSLError) as exc:
        raise ImapError(f"Cannot connect to {mailbox.imap_host}:{mailbox.port}: {exc}") from exc
    try:
        if mailbox.imap_auth == ImapAuth.XOAUTH2:
            client.xoauth2(mailbox.username, mailbox.oauth2_token, initial_folder=mailbox.folder)
        else:
            client.login(mailbox.username, mailbox.password, initial_folder=mailbox.folder)
    except MailboxFolderSelectError as exc:
        client.logout()
        raise ImapError(f"Signed in, but the folder “{mailbox.folder}” does not exist.") from exc
    except Exception as exc:
        # The server may have closed the connection already.
        with contextlib.suppress(Exception):
            client.logout()
        raise ImapError(f"The server refused the sign-in of {mailbox.username}: {exc}") from exc
    return client


def mailbox_test_connection(mailbox: Mailbox) -> str:
    """Sign in and count the folder's messages: what the "Test connection" button says."""
    with connect(mailbox) as client:
        status = client.folder.status(mailbox.folder)
    return f"Signed in as {mailbox.username}; {status.get('MESSAGES', 0)} messages in {mailbox.folder}."


def _claim(mailbox: Mailbox) -> bool:
    now = timezone.now()
    return bool(
        Mailbox.objects.filter(pk=mailbox.pk)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + LEASE)
    )


def poll_mailbox(mailbox: Mailbox) -> int:
    """Fetch and process the new messages of one mailbox; returns how many were handled."""
    if not _claim(mailbox):
        logger.info("mail: %s is being polled elsewhere", mailbox)
        return 0
    handled = 0
    try:
        with connect(mailbox) as client:
            handled = _poll(mailbox, client)
    except ImapError as exc:
        mailbox_record_poll(mailbox=mailbox, ok=False, message=str(exc))
        raise
    except Exception as exc:
        mailbox_record_poll(mailbox=mailbox, ok=False, message=f"{type(exc).__name__}: {exc}")
        raise
    else:
        mailbox_record_poll(mailbox=mailbox, ok=True, message=f"{handled} new message(s).")
    finally:
        Mailbox.objects.filter(pk=mailbox.pk).update(poll_lease_until=None)
    return handled


def _poll(mailbox: Mailbox, client) -> int:
    status = client.folder.status(mailbox.folder, ["UIDVALIDITY"])
    uidvalidity = int(status["UIDVALIDITY"])
    last_uid = mailbox.last_uid
    if mailbox.uidvalidity != uidvalidity:
        if mailbox.uidvalidity is not None:
            logger.warning("mail: %s UIDVALIDITY changed; reading the folder again", mailbox)
        last_uid = 0
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
    # "n:*" always returns the highest UID, even below n: filter.
    uids = sorted(int(uid) for uid in client.uids(f"UID {last_uid + 1}:*") if int(uid) > last_uid)
    handled = 0
    for uid in uids[:IMAP_BATCH]:
        raw = _fetch(client, uid)
        if raw is not None:
            mail_deliver(mailbox=mailbox, raw=raw, imap_uid=uid, uidvalidity=uidvalidity)
            _after(mailbox, client, uid)
        Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid)
        handled += 1
    return handled


def _fetch(client, uid: int) -> bytes | None:
    result, data = client.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if result != "OK":
        raise ImapError(f"FETCH of UID {uid} failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None  # expunged meanwhile


def _after(mailbox: Mailbox, client, uid: int) -> None:
    """The message is committed: now it may leave the server folder."""
    if mailbox.after_processing == AfterProcessing.DELETE:
        client.delete(str(uid))
    elif mailbox.after_processing == AfterProcessing.MOVE:
        folder = mailbox.processed_folder
        if not client.folder.exists(folder):
            client.folder.create(folder)
        client.move(str(uid), folder)
    else:
        client.flag(str(uid), "\\Seen", True)
