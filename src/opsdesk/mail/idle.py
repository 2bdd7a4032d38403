"""IMAP IDLE: mail the moment it arrives, where the server offers it.

``opsdesk worker`` runs ``idle_loop``: one watcher thread per active IMAP mailbox whose server
announces the IDLE capability. A watcher keeps a connection in IDLE; when the server reports new
mail it runs the ordinary poll (``imap.poll_mailbox``: same lease, same idempotency, the same
move-after-commit), so a message takes seconds, not the minute of the scheduled poll. The
scheduled poll keeps running as the safety net: a watcher that loses its connection retries
with backoff, and a server without IDLE is simply polled.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from django.db import close_old_connections

from opsdesk.mail.choices import MailboxKind
from opsdesk.mail.imap import ImapError, connect, poll_mailbox
from opsdesk.mail.models import Mailbox

logger = logging.getLogger("opsdesk.mail.idle")

# RFC 2177: re-issue IDLE at least every 29 minutes; shorter keeps NAT boxes and stop() responsive.
IDLE_SECONDS = 60
REFRESH_SECONDS = 60  # how often the list of mailboxes is re-read (added, edited, deactivated)
MAX_BACKOFF_SECONDS = 300


def supports_idle(client) -> bool:
    return "IDLE" in {str(item).upper() for item in getattr(client.client, "capabilities", ())}


class Watcher(threading.Thread):
    """Keeps one mailbox in IDLE and polls it whenever the server says something changed."""

    def __init__(self, mailbox: Mailbox, stop: threading.Event, *, idle_seconds: int = IDLE_SECONDS) -> None:
        super().__init__(name=f"imap-idle-{mailbox.pk}", daemon=True)
        self.mailbox_id = mailbox.pk
        self.version = mailbox.version
        self.stop_event = stop
        self.idle_seconds = idle_seconds
        self.done = threading.Event()  # set when this watcher should end (mailbox edited or gone)
        self.supported: bool | None = None

    def run(self) -> None:
        backoff = 5
        while not self.stop_event.is_set() and not self.done.is_set():
            try:
                self._watch()
                backoff = 5
            except ImapError as exc:
                logger.warning("mail: IDLE on mailbox %s: %s", self.mailbox_id, exc)
            except Exception:
                logger.exception("mail: IDLE on mailbox %s failed", self.mailbox_id)
            finally:
                close_old_connections()
            if self.supported is False:
                return  # no IDLE on this server: the scheduled poll covers it
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _watch(self) -> None:
        mailbox = Mailbox.objects.filter(pk=self.mailbox_id, is_active=True).first()
        if mailbox is None:
            self.done.set()
            return
        self._poll(mailbox)  # whatever arrived while nobody was watching
        with connect(mailbox) as client:
            self.supported = supports_idle(client)
            if not self.supported:
                logger.info("mail: %s offers no IDLE; it is polled every minute", mailbox)
                return
            while not self.stop_event.is_set() and not self.done.is_set():
                responses = client.idle.wait(timeout=self.idle_seconds)
                # IDLE reports what changes once it has begun: mail that arrived between the
                # last poll and the IDLE command is caught by comparing UIDNEXT each cycle.
                if responses or self._behind(client, mailbox):
                    self._poll(mailbox)

    @staticmethod
    def _behind(client, mailbox: Mailbox) -> bool:
        uid_next = int(client.folder.status(mailbox.folder, ["UIDNEXT"]).get("UIDNEXT", 0))
        last_uid = Mailbox.objects.filter(pk=mailbox.pk).values_list("last_uid", flat=True).first() or 0
        return uid_next - 1 > last_uid

    def _poll(self, mailbox: Mailbox) -> None:
        try:
            poll_mailbox(mailbox)
        finally:
            close_old_connections()


def idle_loop(
    stop: threading.Event, *, refresh_seconds: int = REFRESH_SECONDS, idle_seconds: int = IDLE_SECONDS
) -> None:
    """Run a watcher per active IMAP mailbox until ``stop`` is set; follows edits of the list."""
    watchers: dict[int, Watcher] = {}
    while not stop.is_set():
        try:
            current = {
                mailbox.pk: mailbox
                for mailbox in Mailbox.objects.filter(kind=MailboxKind.IMAP, is_active=True).only(
                    "pk", "version"
                )
            }
        except Exception:
            logger.exception("mail: cannot read the mailboxes for IDLE; the watchers carry on")
            current = None
        finally:
            close_old_connections()
        if current is not None:
            for pk, watcher in list(watchers.items()):
                mailbox = current.get(pk)
                # Gone, deactivated or edited (new host, password…): end it; a fresh one follows.
                # A watcher that died retries; one whose server has no IDLE stays retired.
                died = not watcher.is_alive() and watcher.supported is not False
                if mailbox is None or mailbox.version != watcher.version or died:
                    watcher.done.set()
                    del watchers[pk]
            for pk, mailbox in current.items():
                if pk not in watchers:
                    watcher = Watcher(mailbox, stop, idle_seconds=idle_seconds)
                    watchers[pk] = watcher
                    watcher.start()
        stop.wait(refresh_seconds)
    for watcher in watchers.values():
        watcher.done.set()
        with contextlib.suppress(RuntimeError):
            watcher.join(timeout=2)
