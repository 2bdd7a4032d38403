"""The built-in SMTP/LMTP receiver (aiosmtpd): a mail server delivers to it, it stores and
processes each message and answers only once the message is committed.

One class serves both protocols (``lmtp=True`` speaks LMTP: LHLO, and one reply per
recipient after DATA). Recipients are the addresses of active receiver mailboxes; anything
else is refused at RCPT. Messages over ``MAIL_MAX_BYTES`` are refused with
``552 5.3.4 Message too big`` (the limit is advertised with the SIZE extension). Database work
runs on a small thread pool (one thread on SQLite, whose writers queue anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import connection

from opsdesk.mail.parsing import one_line
from opsdesk.mail.selectors import mailbox_for_address
from opsdesk.mail.services import mail_deliver

logger = logging.getLogger("opsdesk.mail.receiver")
TOO_BIG = "552 5.3.4 Message too big"


class _RefuseBigMail:
    """aiosmtpd's own size replies are not RFC 3463 enhanced codes: give the standard one."""

    async def push(self, status: str) -> None:
        if status.startswith("552 Error"):
            status = TOO_BIG
        await super().push(status)


class _IntakeSMTP(_RefuseBigMail, SMTP):
    pass


class _IntakeLMTP(_RefuseBigMail, LMTP):
    pass


def _in_thread(function, *args):
    _replace_broken_connection()
    try:
        return function(*args)
    finally:
        _replace_broken_connection()


def _replace_broken_connection() -> None:
    """The pool's few threads live as long as the receiver and keep their database connection
    from message to message (opening one costs milliseconds, twice per message: RCPT and
    DATA); a connection that failed and no longer answers is closed and opened anew."""
    if connection.connection is not None and connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()


def _close_connection(barrier: threading.Barrier) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=10)  # one call per thread: each waits until all are taken
    connection.close()


def parse_listen(value: str) -> tuple[str, int, bool]:
    """``[lmtp://|smtp://]host:port`` → (host, port, lmtp)."""
    value = (value or "").strip()
    lmtp = value.lower().startswith("lmtp://")
    if "://" in value:
        value = value.split("://", 1)[1]
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"OPSDESK_SMTP_LISTEN is [lmtp://]host:port, e.g. 127.0.0.1:2525; not {value!r}")
    return host.strip("[]"), int(port), lmtp


class IntakeHandler:
    """aiosmtpd hooks: check recipients, then store and process the message per recipient."""

    def __init__(self, *, lmtp: bool, workers: int | None = None) -> None:
        self.lmtp = lmtp
        self.workers = workers or (1 if connection.vendor == "sqlite" else 4)
        self.executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mail-intake")

    def close(self) -> None:
        """Close every pool thread's database connection, then the pool."""
        barrier = threading.Barrier(self.workers)
        wait([self.executor.submit(_close_connection, barrier) for _ in range(self.workers)], timeout=30)
        self.executor.shutdown(wait=True)

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, _in_thread, function, *args)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mailbox = await self._run(mailbox_for_address, address)
        if mailbox is None:
            return f"550 5.1.1 <{one_line(address, 200)}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        sender = "<>" if envelope.mail_from in ("", "<>", None) else one_line(envelope.mail_from, 320)
        replies = []
        for recipient in envelope.rcpt_tos:
            try:
                message = await self._run(self._deliver, recipient, raw, sender)
            except Exception:
                logger.exception("mail: delivery to %s failed", recipient)
                replies.append(f"451 4.3.0 <{one_line(recipient, 200)}>: temporary failure, try again later")
            else:
                replies.append(f"250 2.0.0 <{one_line(recipient, 200)}> stored as message {message.pk}")
        if self.lmtp:
            return "\r\n".join(replies)
        failed = [reply for reply in replies if not reply.startswith("250")]
        # SMTP has one reply: a retry after a partial failure is harmless (Message-IDs dedupe).
        return failed[0] if failed else replies[0]

    @staticmethod
    def _deliver(recipient: str, raw: bytes, sender: str):
        mailbox = mailbox_for_address(recipient)
        if mailbox is None:
            raise LookupError(f"mailbox {recipient} went away")
        return mail_deliver(mailbox=mailbox, raw=raw, envelope_from=sender)


class IntakeReceiver(Controller):
    """The receiver in its own thread: ``start()``, ``stop()``; ``lmtp`` picks the protocol."""

    def __init__(
        self, host: str, port: int, *, lmtp: bool = False, max_bytes: int | None = None, workers=None
    ):
        self.lmtp = lmtp
        self.max_bytes = max_bytes if max_bytes is not None else settings.MAIL_MAX_BYTES
        super().__init__(IntakeHandler(lmtp=lmtp, workers=workers), hostname=host, port=port)

    def factory(self):
        server_class = _IntakeLMTP if self.lmtp else _IntakeSMTP
        return server_class(
            self.handler,
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.OPSDESK_MAIL_DOMAIN or None,
            ident="OpsDesk intake",
        )

    def stop(self, no_assert: bool = False):
        super().stop(no_assert=no_assert)
        self.handler.close()
