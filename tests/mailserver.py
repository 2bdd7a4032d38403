"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    def __init__(self) -> None:
        self.collector = _Collector()
        self.port = _free_port()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.controller.stop()
