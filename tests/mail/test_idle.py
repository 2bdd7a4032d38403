# ruff: noqa: F811  (pytest fixtures imported from test_imap are parameters here)
"""IMAP IDLE against a real Dovecot: a message appended to the folder becomes a ticket within
seconds, without waiting for the minute's poll, and the watchers follow the mailbox list."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError

from opsdesk.mail.idle import Watcher, idle_loop, supports_idle
from opsdesk.mail.imap import connect
from opsdesk.mail.models import Mailbox
from opsdesk.tickets.models import Ticket
from tests.mail.test_imap import append, dovecot, imap_mailbox  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OperationalError:
            # SQLite's in-memory test database is shared-cache: a read that meets the watcher
            # thread's write transaction fails at once ("table is locked") instead of waiting.
            pass
        time.sleep(0.2)
    return False


def test_dovecot_offers_idle(imap_mailbox):
    with connect(imap_mailbox) as client:
        assert supports_idle(client)


def test_a_new_message_is_a_ticket_within_seconds(dovecot, imap_mailbox):
    stop = threading.Event()
    watcher = Watcher(imap_mailbox, stop, idle_seconds=3)
    watcher.start()
    try:
        time.sleep(1)  # the watcher polls once, then waits in IDLE
        started = time.monotonic()
        append(dovecot, "alternative.eml")
        assert wait_for(lambda: Ticket.objects.count() == 1), "IDLE did not pick the message up"
        assert time.monotonic() - started < 30  # the scheduled poll would take up to a minute
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


def test_the_loop_stops_watching_a_deactivated_mailbox(dovecot, imap_mailbox):
    stop = threading.Event()
    loop = threading.Thread(
        target=idle_loop, args=(stop,), kwargs={"refresh_seconds": 1, "idle_seconds": 2}, daemon=True
    )
    loop.start()
    try:
        assert wait_for(lambda: any(t.name == f"imap-idle-{imap_mailbox.pk}" for t in threading.enumerate()))
        Mailbox.objects.filter(pk=imap_mailbox.pk).update(is_active=False)
        assert wait_for(
            lambda: not any(t.name == f"imap-idle-{imap_mailbox.pk}" for t in threading.enumerate())
        )
    finally:
        stop.set()
        loop.join(timeout=15)
    assert not loop.is_alive()
