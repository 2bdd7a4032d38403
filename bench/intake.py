"""E-mail intake: messages through the built-in LMTP receiver over real sockets, beside the
parse-only rate of Python's ``email`` package on the same messages.

    python bench/intake.py                  # 10,000 messages on SQLite
    python bench/intake.py --quick          # 1,000 messages (a minute or two)
    python bench/intake.py --database-url postgres://postgres@127.0.0.1:5432/test
    python bench/intake.py --messages 3000 --connections 1,2,4

What it does, in order:

1. makes a throw-away data directory (and, with ``--database-url``, a scratch database beside
   the one named, dropped at the end); a child process migrates it and seeds a desk: a team of
   three agents, a receiver mailbox ``support@bench.example`` (kind LMTP) that routes to it,
   20 customer organisations, requesters, and one ticket per 20 messages raised by them through
   ``ticket_create``, each with the signed Message-ID a notification about it would carry
   (``opsdesk.tickets.mail_threading.message_id_for``);
2. builds N messages (seeded, reproducible): text only (UTF-8 and ISO-8859-1,
   quoted-printable) or multipart/alternative with an HTML part, from a pool of senders of
   whom a third have accounts and the rest get one on their first message. Of them
   - 20 % carry an attachment: a 50–200 KB PDF or PNG (real magic bytes, random content, some
     with non-ASCII RFC 2231 names) that passes the upload checks;
   - 10 % are replies by a seeded ticket's requester, half found by our signed Message-ID in
     In-Reply-To/References, half by the ``[INC…]`` tag in the subject only, each with a
     quoted part (Gmail style) that the timeline folds away;
   - 5 % are exact redeliveries of an earlier message (same bytes, same Message-ID);
3. starts ``python -m opsdesk mail-receiver --listen lmtp://127.0.0.1:<free port>`` and
   delivers the messages in order with ``smtplib.LMTP``: the first share over one connection,
   the next over 4 (``--connections``), each message answered only once it is committed;
4. the limits below it, in the same run: the same messages to an aiosmtpd LMTP sink that only
   says 250 (the transport and the client alone), and the parse-only rate of Python's
   ``email`` package: ``message_from_bytes(raw, policy=policy.default)`` and every leaf part's
   ``get_content()``, one thread; then OpsDesk's own ``parse_message`` (which adds header
   decoding, HTML sanitizing and quote splitting) on the same messages;
5. checks the outcome in the database (a child process): tickets created, replies on the right
   ticket, duplicates created (must be 0), inbound messages by status, attachments stored,
   and prints it all with the load average before and after.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import quopri
import random
import shlex
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(BENCH))

HOST = "127.0.0.1"
MAILBOX = "support@bench.example"
ORGANIZATIONS = 20
AGENTS = 3
ATTACHMENT_SHARE = 0.20
REPLY_SHARE = 0.10
DUPLICATE_SHARE = 0.05
DUPLICATE_GAP = 12  # a redelivery comes at least this many messages after its original
TARGET_PER_SECOND = 50
CRLF = "\r\n"


def sizes_for(count: int) -> dict[str, int]:
    """How many requesters and seeded tickets a run of ``count`` messages needs. Senders are
    spread so that none comes near the per-sender rate limit (30 an hour by default)."""
    return {
        "tickets": max(20, count // 20),
        "requesters": max(40, min(400, count // 25)),
        "strangers": max(80, count // 8),
    }


# --- 1. the desk, in a child process with the environment set before Django loads ---------------
def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    import django

    django.setup()


def _vendor_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def seed(output: Path, count: int) -> None:
    """Migrate and seed the desk; write what the message builder needs as JSON."""
    _django()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from opsdesk.accounts.choices import OrganizationKind, Role, Tier
    from opsdesk.accounts.models import Organization, Team, TeamMembership, User
    from opsdesk.core.audit import acting
    from opsdesk.mail.choices import MailboxKind
    from opsdesk.mail.models import Mailbox
    from opsdesk.tickets.choices import Channel
    from opsdesk.tickets.mail_threading import message_id_for, thread_id_for
    from opsdesk.tickets.services import ticket_create

    call_command("migrate", "--no-input", verbosity=0)
    sizes = sizes_for(count)
    with transaction.atomic(), acting(channel=Channel.EMAIL):
        organizations = Organization.objects.bulk_create(
            Organization(
                name=f"Customer {n:02d}", kind=OrganizationKind.CUSTOMER, email_domain=f"customer{n}.example"
            )
            for n in range(ORGANIZATIONS)
        )
        password = make_password("bench-password-not-for-login")
        agents = User.objects.bulk_create(
            User(
                username=f"agent{n}",
                email=f"agent{n}@desk.example",
                first_name=f"Agent{n}",
                last_name="Desk",
                password=password,
                role=Role.AGENT,
            )
            for n in range(AGENTS)
        )
        team = Team.objects.create(name="Service Desk", tier=Tier.L1, email="desk@desk.example")
        TeamMembership.objects.bulk_create(TeamMembership(team=team, user=agent) for agent in agents)
        requesters = User.objects.bulk_create(
            User(
                username=f"person{n:04d}",
                email=f"person{n:04d}@customer{n % ORGANIZATIONS}.example",
                first_name=f"Pat{n}",
                last_name=f"Customer{n}",
                password=password,
                role=Role.REQUESTER,
                organization=organizations[n % ORGANIZATIONS],
            )
            for n in range(sizes["requesters"])
        )
        Mailbox.objects.create(name="Support", address=MAILBOX, kind=MailboxKind.LMTP, team=team)
    tickets = []
    for n in range(sizes["tickets"]):
        requester = requesters[n % len(requesters)]
        with acting(actor=requester, channel=Channel.EMAIL):
            ticket = ticket_create(
                actor=requester,
                requester=requester,
                title=f"VPN drops every few minutes ({n})",
                description="Since this morning the VPN client disconnects every few minutes.",
                channel=Channel.EMAIL,
            )
        tickets.append(
            {
                "number": ticket.number,
                "title": ticket.title,
                "requester": requester.email,
                "message_id": message_id_for(ticket.number),
                "thread_id": thread_id_for(ticket.number),
            }
        )
    output.write_text(
        json.dumps(
            {
                "requesters": [user.email for user in requesters],
                "tickets": tickets,
                "database": _vendor_version(connection),
                "sqlite": connection.vendor == "sqlite",
            }
        )
    )


# --- 2. the messages ----------------------------------------------------------------------------
@dataclass
class Mail:
    kind: str  # "new", "reply" or "duplicate"
    raw: bytes
    message_id: str
    sender: str
    ticket: str = ""  # a reply: the ticket it belongs on
    by_header: bool = False  # a reply found by our Message-ID (else by the subject tag)
    attachment: str = ""  # the attachment's file name, if any
    attachment_bytes: int = 0
    original: int = -1  # a duplicate: the index of the message it repeats


WORDS = [
    "printer",
    "laptop",
    "password",
    "VPN",
    "screen",
    "keyboard",
    "mailbox",
    "calendar",
    "invoice",
    "contract",
    "licence",
    "server",
    "backup",
    "network",
    "badge",
    "phone",
    "headset",
    "update",
    "meeting",
    "room",
    "projector",
    "Wi-Fi",
    "access",
    "report",
    "spreadsheet",
    "portal",
    "account",
    "token",
    "certificate",
    "Outlook",
    "Teams",
    "drive",
    "folder",
]
PHRASES = (
    "Since this morning {a} does not work any more.",
    "After the last update the {a} keeps asking for the {b}.",
    "Could you please give me access to the {a} of our team?",
    "The {a} on the third floor shows an error about the {b}.",
    "Grüße aus München: der {a} startet nicht, und das {b} ist gesperrt.",
    "Le {a} ne répond plus depuis hier soir ; merci de vérifier le {b}.",
    "We need a new {a} for the colleague who starts on Monday.",
    "会議室の{a}が使えません。{b}も確認してください。",
)
LATIN1_PHRASES = (
    "Bonjour, le {a} est bloqué depuis la mise à jour.",
    "Hallo, das {a} im Büro funktioniert nicht, bitte prüfen Sie das {b}.",
    "Buenos días: el {a} no arranca y el {b} está caído.",
)
NAMES = ("Anna Schmidt", "Jean Dupont", "Mia Müller", "Kenji Sato", "Olivia Brown", "Lucía García")


def _sentence(rng: random.Random, phrases=PHRASES) -> str:
    return rng.choice(phrases).format(a=rng.choice(WORDS), b=rng.choice(WORDS))


def _qp(text: str, charset: str) -> str:
    body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode(charset)
    return quopri.encodestring(body).decode("ascii").replace("\r\n", "\n").replace("\n", CRLF)


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", CRLF)


def _header_words(text: str) -> str:
    """An encoded-word for a non-ASCII subject, as mail clients write it."""
    if text.isascii():
        return text
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


class Builder:
    """Builds the run's messages from a seed: the same arguments give the same bytes."""

    def __init__(self, facts: dict, count: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = count
        self.facts = facts
        sizes = sizes_for(count)
        strangers = [f"caller{n:05d}@outside{n % 50}.example" for n in range(sizes["strangers"])]
        # A third of the senders have accounts; the others get one with their first message.
        self.senders = [*facts["requesters"], *strangers]
        self.blobs = [self.rng.randbytes(200 * 1024) for _ in range(16)]
        self.when = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def _message_id(self, n: int) -> str:
        return (
            f"<{self.rng.getrandbits(64):016x}.{n}@mail.{self.rng.choice(('outside', 'customer'))}.example>"
        )

    def _headers(self, n: int, sender: str, subject: str, message_id: str, extra: list[str]) -> list[str]:
        name = self.rng.choice(NAMES)
        self.when += timedelta(seconds=self.rng.randrange(1, 30))
        return [
            f"Return-Path: <{sender}>",
            f"Received: from mail.example (mail.example [192.0.2.{n % 250 + 1}]) by mx.bench.example "
            f"with ESMTPS id {n:08x}; {format_datetime(self.when)}",
            f"From: {_header_words(name)} <{sender}>",
            f"To: Support <{MAILBOX}>",
            f"Subject: {_header_words(subject)}",
            f"Date: {format_datetime(self.when)}",
            f"Message-ID: {message_id}",
            *extra,
            "MIME-Version: 1.0",
        ]

    def _body(self, text: str, latin: bool) -> tuple[list[str], str]:
        """(content headers, body) of the text, as one of three client styles."""
        style = self.rng.random()
        if latin:
            return (
                [
                    'Content-Type: text/plain; charset="iso-8859-1"',
                    "Content-Transfer-Encoding: quoted-printable",
                ],
                _qp(text, "iso-8859-1"),
            )
        if style < 0.45:
            return (
                [
                    "Content-Type: text/plain; charset=utf-8; format=flowed",
                    "Content-Transfer-Encoding: quoted-printable",
                ],
                _qp(text, "utf-8"),
            )
        boundary = f"alt-{self.rng.getrandbits(48):012x}"
        paragraphs = "".join(
            f"<p>{line}</p>" for line in text.replace("&", "&amp;").replace("<", "&lt;").split("\n") if line
        )
        html = (
            '<html><head><meta charset="utf-8"><style>p{margin:0}</style></head>'
            f'<body><div style="font-family:Calibri,sans-serif">{paragraphs}</div></body></html>'
        )
        body = CRLF.join(
            [
                f"--{boundary}",
                'Content-Type: text/plain; charset="utf-8"',
                "Content-Transfer-Encoding: quoted-printable",
                "",
                _qp(text, "utf-8"),
                f"--{boundary}",
                'Content-Type: text/html; charset="utf-8"',
                "Content-Transfer-Encoding: base64",
                "",
                _b64(html.encode()),
                f"--{boundary}--",
                "",
            ]
        )
        return [f'Content-Type: multipart/alternative; boundary="{boundary}"'], body

    def _attachment(self, n: int) -> tuple[str, str, bytes]:
        size = self.rng.randrange(50 * 1024, 200 * 1024 + 1)
        blob = self.rng.choice(self.blobs)
        start = self.rng.randrange(0, len(blob) - size + 1)
        if self.rng.random() < 0.5:
            head = f"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% bench message {n}\n".encode("latin-1")
            name = self.rng.choice((f"report-{n}.pdf", f"Prüfbericht {n}.pdf", f"invoice_{n}.pdf"))
            return name, "application/pdf", head + blob[start : start + size - len(head)]
        head = b"\x89PNG\r\n\x1a\n" + f"bench message {n}".encode()
        name = self.rng.choice((f"screenshot-{n}.png", f"Fehlermeldung {n}.png", f"error_{n}.png"))
        return name, "image/png", head + blob[start : start + size - len(head)]

    def _assemble(self, headers: list[str], text: str, attachment, latin: bool = False) -> bytes:
        content_headers, body = self._body(text, latin)
        if attachment is not None:
            name, content_type, data = attachment
            boundary = f"mix-{self.rng.getrandbits(48):012x}"
            filename = f'filename="{name}"' if name.isascii() else f"filename*=utf-8''{quote(name, safe='')}"
            body = CRLF.join(
                [
                    "This is a multi-part message in MIME format.",
                    f"--{boundary}",
                    *content_headers,
                    "",
                    body,
                    f"--{boundary}",
                    f"Content-Type: {content_type}",
                    f"Content-Disposition: attachment; {filename}",
                    "Content-Transfer-Encoding: base64",
                    "",
                    _b64(data),
                    f"--{boundary}--",
                    "",
                ]
            )
            content_headers = [f'Content-Type: multipart/mixed; boundary="{boundary}"']
        return (CRLF.join([*headers, *content_headers, "", body])).encode("utf-8")

    def build(self) -> list[Mail]:
        rng, count = self.rng, self.count
        duplicates = round(count * DUPLICATE_SHARE)
        replies = round(count * REPLY_SHARE)
        kinds = ["duplicate"] * duplicates + ["reply"] * replies
        kinds += ["new"] * (count - len(kinds))
        rng.shuffle(kinds)
        # A redelivery needs an earlier original: the first messages are all new.
        head = [index for index in range(min(DUPLICATE_GAP * 2, count)) if kinds[index] == "duplicate"]
        for index in head:
            swap = next(i for i in range(count - 1, 0, -1) if kinds[i] == "new")
            kinds[index], kinds[swap] = "new", "duplicate"
        originals = [index for index, kind in enumerate(kinds) if kind != "duplicate"]
        with_attachment = set(rng.sample(originals, round(len(originals) * ATTACHMENT_SHARE)))
        tickets = self.facts["tickets"]
        mails: list[Mail] = []
        next_sender = 0
        for n, kind in enumerate(kinds):
            if kind == "duplicate":
                original = rng.choice(
                    [i for i in range(max(0, n - 400), n - DUPLICATE_GAP) if mails[i].kind != "duplicate"]
                )
                first = mails[original]
                mails.append(
                    Mail(
                        "duplicate",
                        first.raw,
                        first.message_id,
                        first.sender,
                        first.ticket,
                        first.by_header,
                        first.attachment,
                        first.attachment_bytes,
                        original,
                    )
                )
                continue
            attachment = self._attachment(n) if n in with_attachment else None
            message_id = self._message_id(n)
            if kind == "reply":
                ticket = tickets[rng.randrange(len(tickets))]
                sender = ticket["requester"]
                by_header = rng.random() < 0.5
                new = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
                quoted = "\n".join(
                    f"> {line}" for line in ("Hello,", "we are looking into it.", "", "Service Desk")
                )
                text = f"{new}\n\nOn Mon, 2 Mar 2026 at 09:12, Service Desk <{MAILBOX}> wrote:\n{quoted}\n"
                if by_header:
                    subject = f"Re: {ticket['title']}"
                    extra = [
                        f"In-Reply-To: {ticket['message_id']}",
                        f"References: {ticket['thread_id']} {ticket['message_id']}",
                    ]
                else:
                    subject = f"RE: [{ticket['number']}] {ticket['title']}"
                    extra = []
                headers = self._headers(n, sender, subject, message_id, extra)
                raw = self._assemble(headers, text, attachment)
                mail = Mail("reply", raw, message_id, sender, ticket["number"], by_header)
            else:
                sender = self.senders[next_sender % len(self.senders)]
                next_sender += 1
                latin = rng.random() < 0.15
                sentences = [
                    _sentence(rng, LATIN1_PHRASES if latin else PHRASES) for _ in range(rng.randint(2, 12))
                ]
                text = "Hello,\n\n" + "\n".join(sentences) + "\n\nThanks\n-- \nSent from my phone\n"
                subject = sentences[0][:70]
                raw = self._assemble(
                    self._headers(n, sender, subject, message_id, []), text, attachment, latin
                )
                mail = Mail("new", raw, message_id, sender)
            if attachment is not None:
                mail.attachment, mail.attachment_bytes = attachment[0], len(attachment[2])
            mails.append(mail)
        return mails


# --- 3. delivery --------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    connections: int
    first: int
    last: int  # exclusive
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.last - self.first

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


def deliver(port: int, mails: list[Mail], phase: Phase) -> None:
    """Send ``mails[first:last]`` in order over ``connections`` LMTP connections."""
    lock = threading.Lock()
    cursor = [phase.first]

    def take() -> int | None:
        with lock:
            if cursor[0] >= phase.last:
                return None
            cursor[0] += 1
            return cursor[0] - 1

    def worker() -> None:
        client = smtplib.LMTP(HOST, port, timeout=120)
        try:
            while (index := take()) is not None:
                mail = mails[index]
                began = time.perf_counter()
                try:
                    client.sendmail(mail.sender, [MAILBOX], mail.raw)
                except smtplib.SMTPResponseException as error:
                    with lock:
                        phase.failures.append(f"#{index}: {error.smtp_code} {error.smtp_error!r}")
                except (smtplib.SMTPException, OSError) as error:
                    with lock:
                        phase.failures.append(f"#{index}: {type(error).__name__}: {error}")
                    client.close()
                    client = smtplib.LMTP(HOST, port, timeout=120)
                    continue
                phase.latencies.append(time.perf_counter() - began)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    threads = [threading.Thread(target=worker) for _ in range(phase.connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """Start a receiver process and wait until it answers LHLO."""
    log = log_path.open("wb")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"bench: {' '.join(command[1:])} exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            with smtplib.LMTP(HOST, port, timeout=5) as client:
                client.ehlo_or_helo_if_needed()
            return process
        except (OSError, smtplib.SMTPException):
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"bench: nothing answered on {HOST}:{port} within 60 s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def sink(port: int) -> None:
    """An aiosmtpd LMTP server that accepts everything and keeps nothing: the transport alone."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.lmtp import LMTP

    class Accept:
        async def handle_DATA(self, server, session, envelope):
            return "250 2.0.0 OK"

    class SinkController(Controller):
        def factory(self):
            return LMTP(self.handler, decode_data=False, data_size_limit=50 * 1024 * 1024)

    controller = SinkController(Accept(), hostname=HOST, port=port)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    controller.start()
    stopping.wait()
    controller.stop()


# --- 4. parse only ------------------------------------------------------------------------------
def parse_only(raws: list[bytes]) -> float:
    """Seconds for Python's ``email`` package to parse every message and decode every leaf part."""
    began = time.perf_counter()
    for raw in raws:
        message = message_from_bytes(raw, policy=policy.default)
        for part in message.walk():
            if not part.is_multipart():
                part.get_content()
    return time.perf_counter() - began


# --- 5. the outcome, in a child process ---------------------------------------------------------
def check(facts_path: Path, output: Path, count: int, seed_value: int) -> None:
    """What the intake made of the run, from the database; and OpsDesk's parse rate."""
    _django()
    from django.core.files.storage import default_storage
    from django.db.models import Count, Sum

    from opsdesk.mail.models import InboundMessage
    from opsdesk.mail.parsing import parse_message
    from opsdesk.tickets.choices import EventKind
    from opsdesk.tickets.models import Attachment, Ticket, TimelineEvent

    facts = json.loads(facts_path.read_text())
    mails = Builder(facts, count, seed_value).build()
    seeded = {ticket["number"] for ticket in facts["tickets"]}
    by_id = {}
    for row in InboundMessage.objects.values(
        "message_id", "status", "ticket__number", "event__kind", "reason"
    ):
        by_id.setdefault(row["message_id"], []).append(row)
    originals = [mail for mail in mails if mail.kind != "duplicate"]
    right = wrong = missing = 0
    for mail in originals:
        rows = [row for row in by_id.get(mail.message_id, []) if row["status"] != "duplicate"]
        if mail.kind != "reply":
            continue
        if (
            len(rows) == 1
            and rows[0]["ticket__number"] == mail.ticket
            and rows[0]["event__kind"] == EventKind.PUBLIC_REPLY
        ):
            right += 1
        elif rows:
            wrong += 1
        else:
            missing += 1
    originals_stored = {
        key: [row for row in rows if row["status"] != "duplicate"] for key, rows in by_id.items()
    }
    extra_originals = sum(max(0, len(rows) - 1) for rows in originals_stored.values())
    new_tickets = Ticket.objects.exclude(number__in=seeded)
    reply_events = TimelineEvent.objects.filter(
        ticket__number__in=seeded, kind=EventKind.PUBLIC_REPLY
    ).count()
    attachments = Attachment.objects.aggregate(count=Count("id"), size=Sum("size"))
    sample = list(Attachment.objects.order_by("?").values_list("file", flat=True)[:50])
    statuses = dict(
        InboundMessage.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    not_processed = list(
        InboundMessage.objects.exclude(status__in=("processed", "duplicate")).values_list("status", "reason")[
            :5
        ]
    )
    ticket_statuses = dict(
        new_tickets.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    expected_new = sum(mail.kind == "new" for mail in mails)
    raws = [mail.raw for mail in mails]
    began = time.perf_counter()
    for raw in raws:
        parse_message(raw)
    parse_seconds = time.perf_counter() - began
    output.write_text(
        json.dumps(
            {
                "tickets_created": new_tickets.count(),
                "tickets_expected": expected_new,
                "tickets_by_status": ticket_statuses,
                "reply_right": right,
                "reply_wrong": wrong,
                "reply_missing": missing,
                "reply_events": reply_events,
                "extra_originals": extra_originals,
                "statuses": statuses,
                "not_processed": not_processed,
                "attachments": attachments["count"],
                "attachment_bytes": attachments["size"] or 0,
                "attachment_files_missing": sum(not default_storage.exists(name) for name in sample),
                "attachment_files_sampled": len(sample),
                "opsdesk_parse_seconds": parse_seconds,
            }
        )
    )


# --- report -------------------------------------------------------------------------------------
def report(*, command, facts, mails, phases, sinks, parse_seconds, outcome, run_seconds, loads, workers):
    import aiosmtpd

    total_bytes = sum(len(mail.raw) for mail in mails)
    kinds = {kind: sum(mail.kind == kind for mail in mails) for kind in ("new", "reply", "duplicate")}
    by_header = sum(mail.kind == "reply" and mail.by_header for mail in mails)
    with_attachment = [mail for mail in mails if mail.kind != "duplicate" and mail.attachment]
    count = len(mails)
    parse_rate = count / parse_seconds
    opsdesk_parse_rate = count / outcome["opsdesk_parse_seconds"]
    print()
    print("OpsDesk e-mail intake benchmark")
    print(f"  command   {command}")
    print(
        f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    print(f"  database  {facts['database']}")
    print(
        f"  receiver  python -m opsdesk mail-receiver --listen lmtp://{HOST}:<port> "
        f"(aiosmtpd {aiosmtpd.__version__}, {workers} database thread{'s' if workers != 1 else ''}); "
        "client smtplib.LMTP on the same machine"
    )
    print(
        f"  messages  {count:,} ({total_bytes / 1e6:,.1f} MB): {kinds['new']:,} new, "
        f"{kinds['reply']:,} replies to {len(facts['tickets']):,} seeded tickets "
        f"({by_header:,} by signed In-Reply-To, "
        f"{kinds['reply'] - by_header:,} by subject tag), {kinds['duplicate']:,} exact redeliveries;"
    )
    print(
        f"            {len(with_attachment):,} originals with a 50–200 KB PDF/PNG attachment; "
        f"{len(facts['requesters']):,} senders with accounts, {sizes_for(count)['strangers']:,} without"
    )
    print(
        f"  run       {run_seconds:.0f} s in all; load average (1 min) {loads[0]:.2f} before, "
        f"{loads[1]:.2f} after"
    )
    print()
    header = (
        f"  {'delivered over LMTP':<44} {'conn':>4} {'messages':>9} {'msg/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'failed':>6}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for label, rows in (
        ("OpsDesk intake (committed, then answered)", phases),
        ("aiosmtpd sink (says 250, keeps nothing)", sinks),
    ):
        for phase in rows:
            print(
                f"  {label:<44} {phase.connections:>4} {phase.messages:>9,} {phase.rate:>8.1f} "
                f"{phase.percentile(0.5):>8.1f} {phase.percentile(0.95):>8.1f} {len(phase.failures):>6}"
            )
    print(
        f"  {'parse only: email.message_from_bytes + parts':<44} {'1':>4} {count:>9,} {parse_rate:>8.1f}   "
        f"({total_bytes / 1e6 / parse_seconds:,.1f} MB/s, one thread, no network)"
    )
    print(
        f"  {'parse: opsdesk.mail.parsing.parse_message':<44} {'1':>4} {count:>9,} "
        f"{opsdesk_parse_rate:>8.1f}   "
        f"(headers, sanitized HTML, quotes split)"
    )
    print()
    for phase, sink_phase in zip(phases, sinks, strict=True):
        print(
            f"  ratio at {phase.connections} conn: parse-only ÷ intake {parse_rate / phase.rate:>6.1f}×, "
            f"parse_message ÷ intake {opsdesk_parse_rate / phase.rate:>5.1f}×, "
            f"sink ÷ intake {sink_phase.rate / phase.rate:>5.1f}×"
        )
    overall = sum(p.messages for p in phases) / sum(p.seconds for p in phases)
    met = "met" if min(p.rate for p in phases) >= TARGET_PER_SECOND else "NOT met"
    print(
        f"  intake overall {overall:.1f} msg/s; "
        f"target ≥ {TARGET_PER_SECOND} msg/s at every connection count: {met}"
    )
    print()
    duplicates_created = outcome["extra_originals"] + max(
        0, outcome["tickets_created"] - outcome["tickets_expected"]
    )
    duplicates_created += max(0, outcome["reply_events"] - kinds["reply"])
    expected_attachments = len(with_attachment)
    statuses = ", ".join(f"{name} {n:,}" for name, n in sorted(outcome["statuses"].items()))
    ticket_statuses = ", ".join(f"{name} {n:,}" for name, n in sorted(outcome["tickets_by_status"].items()))
    print("  outcome, checked in the database")
    print(
        f"    tickets created                {outcome['tickets_created']:>7,} "
        f"(expected {outcome['tickets_expected']:,}; {ticket_statuses})"
    )
    print(
        f"    replies on the right ticket    {outcome['reply_right']:>7,} of {kinds['reply']:,} "
        f"(elsewhere {outcome['reply_wrong']}, not stored {outcome['reply_missing']}; "
        f"{outcome['reply_events']:,} reply events on the seeded tickets)"
    )
    print(
        f"    duplicates created             {duplicates_created:>7,} (must be 0; "
        f"{outcome['statuses'].get('duplicate', 0):,} redeliveries recorded as duplicate, "
        f"{kinds['duplicate']:,} sent)"
    )
    print(
        f"    attachments stored             {outcome['attachments']:>7,} of {expected_attachments:,} "
        f"({outcome['attachment_bytes'] / 1e6:,.1f} MB; {outcome['attachment_files_missing']} of "
        f"{outcome['attachment_files_sampled']} sampled files missing)"
    )
    print(f"    inbound messages by status     {statuses}")
    for status, reason in outcome["not_processed"]:
        print(f"      e.g. {status}: {reason}")
    failures = [failure for phase in phases for failure in phase.failures]
    for failure in failures[:5]:
        print(f"    delivery failed {failure}")
    print()
    ok = (
        duplicates_created == 0
        and outcome["reply_right"] == kinds["reply"]
        and outcome["tickets_created"] == outcome["tickets_expected"]
        and outcome["attachments"] == expected_attachments
        and not failures
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 messages")
    parser.add_argument("--messages", type=int, help="how many messages (default 10,000; quick 1,000)")
    parser.add_argument(
        "--connections", default="1,4", help="LMTP connections per share of the run (default 1,4)"
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--database-url",
        default="",
        help="bench PostgreSQL: a scratch database is created on this server and dropped after",
    )
    parser.add_argument("--seed-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--check", nargs=2, type=Path, metavar=("FACTS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    count = options.messages or (1_000 if options.quick else 10_000)
    if options.sink:
        sink(options.sink)
        return 0
    if options.seed_into:
        seed(options.seed_into, count)
        return 0
    if options.check:
        check(options.check[0], options.check[1], count, options.seed)
        return 0
    connections = [int(part) for part in options.connections.split(",") if part.strip()]
    if count < 100 or not connections or min(connections) < 1:
        parser.error("at least 100 messages and one or more connection counts ≥ 1")

    command = "python bench/intake.py" + "".join(f" {shlex.quote(arg)}" for arg in sys.argv[1:])
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    from api import bench_env, drop_database, scratch_database

    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-") as tmp:
        data_dir = Path(tmp)
        env = bench_env(data_dir)
        scratch_name = ""
        if options.database_url:
            env["OPSDESK_DATABASE_URL"], scratch_name = scratch_database(options.database_url)
        receiver = None
        try:
            print(f"bench: migrating and seeding a desk for {count:,} messages …", flush=True)
            facts_path = data_dir / "facts.json"
            child = [sys.executable, __file__, "--messages", str(count), "--seed", str(options.seed)]
            subprocess.run([*child, "--seed-into", str(facts_path)], env=env, check=True, cwd=ROOT)
            facts = json.loads(facts_path.read_text())
            print(f"bench: building {count:,} messages …", flush=True)
            mails = Builder(facts, count, options.seed).build()
            shares = [count * n // len(connections) for n in range(len(connections) + 1)]

            def plan(name):
                return [Phase(name, c, shares[n], shares[n + 1]) for n, c in enumerate(connections)]

            port = free_port()
            listen = f"lmtp://{HOST}:{port}"
            print(f"bench: starting opsdesk mail-receiver --listen {listen} …", flush=True)
            receiver = start(
                [sys.executable, "-m", "opsdesk", "mail-receiver", "--listen", listen],
                env,
                port,
                data_dir / "receiver.log",
            )
            phases = plan("intake")
            for phase in phases:
                print(
                    f"bench: delivering messages {phase.first + 1:,}–{phase.last:,} "
                    f"over {phase.connections} connection(s) …",
                    flush=True,
                )
                deliver(port, mails, phase)
                print(f"bench:   {phase.rate:.1f} msg/s, {len(phase.failures)} failed", flush=True)
            stop(receiver)
            receiver = None

            sink_port = free_port()
            print("bench: the same messages to an aiosmtpd sink …", flush=True)
            receiver = start(
                [sys.executable, __file__, "--sink", str(sink_port)], env, sink_port, data_dir / "sink.log"
            )
            sinks = plan("sink")
            for phase in sinks:
                deliver(sink_port, mails, phase)
            stop(receiver)
            receiver = None

            print("bench: parse only (email package) …", flush=True)
            raws = [mail.raw for mail in mails]
            parse_seconds = min(parse_only(raws) for _ in range(2 if count <= 2_000 else 1))
            print("bench: checking the outcome in the database and timing parse_message …", flush=True)
            outcome_path = data_dir / "outcome.json"
            subprocess.run(
                [*child, "--check", str(facts_path), str(outcome_path)], env=env, check=True, cwd=ROOT
            )
            outcome = json.loads(outcome_path.read_text())
            log_tail = (data_dir / "receiver.log").read_text(errors="replace").splitlines()[-20:]
        finally:
            if receiver is not None:
                stop(receiver)
            if scratch_name:
                drop_database(options.database_url, scratch_name)
    ok = report(
        command=command,
        facts=facts,
        mails=mails,
        phases=phases,
        sinks=sinks,
        parse_seconds=parse_seconds,
        outcome=outcome,
        run_seconds=time.monotonic() - started,
        loads=(load_before, os.getloadavg()[0]),
        workers=1 if facts["sqlite"] else 4,
    )
    if not ok:
        print("bench: the outcome is not what was sent; the receiver's log ends:", file=sys.stderr)
        print("\n".join(log_tail), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
