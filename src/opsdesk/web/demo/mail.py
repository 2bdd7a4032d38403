"""Demo e-mail intake: the built-in receiver mailbox ``support@example.com`` for the Service Desk,
and a few messages delivered through the real intake (``mail_deliver``), so the mailbox and
message screens show each outcome: a new request, a requester's reply to their ticket, an
ignored out-of-office reply, and a scanner's mail quarantined for its unusable sender."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.utils import timezone

from opsdesk.accounts.models import Team, User
from opsdesk.mail.choices import MailboxKind
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.mail.services import mail_deliver, mailbox_save
from opsdesk.tickets.choices import OPEN_STATUSES, TicketType
from opsdesk.tickets.mail_threading import message_id_for, thread_id_for
from opsdesk.tickets.models import Ticket

ADDRESS = "support@example.com"
MAILBOX_NAME = "Support"
TEAM = "Service Desk"
REPLYING_REQUESTER = "requester"


def load_mailboxes(admin: User) -> int:
    """Create the demo mailbox once and deliver each demo message once; returns how many
    messages were delivered now (0 when everything is there already)."""
    mailbox = Mailbox.objects.filter(address=ADDRESS).first()
    if mailbox is None:
        mailbox = mailbox_save(
            actor=admin,
            data={
                "name": MAILBOX_NAME,
                "address": ADDRESS,
                "kind": MailboxKind.LMTP,
                "team": Team.objects.filter(name=TEAM).first(),
                "ticket_type": TicketType.INCIDENT,
            },
        )
    delivered = 0
    for message_id, build in MESSAGES:
        if InboundMessage.objects.filter(message_id=message_id).exists():
            continue
        built = build(message_id)
        if built is None:
            continue
        raw, envelope_from = built
        mail_deliver(mailbox=mailbox, raw=raw, envelope_from=envelope_from)
        delivered += 1
    return delivered


def _message(
    message_id: str, *, sender: tuple[str, str] | str, subject: str, text: str, minutes_ago: int
) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr(sender) if isinstance(sender, tuple) else sender
    message["To"] = formataddr(("IT Support", ADDRESS))
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now() - timedelta(minutes=minutes_ago))
    message["Message-ID"] = message_id
    message.set_content(text)
    return message


def _new_request(message_id: str) -> tuple[bytes, str]:
    message = _message(
        message_id,
        sender=("Wei Chen", "chen@example.com"),
        subject="Excel closes when I open the Q3 forecast",
        minutes_ago=95,
        text=(
            "Hello,\n\n"
            "since this morning Excel closes without a message whenever I open\n"
            "\\\\fs01\\finance\\Forecast Q3.xlsx. Other workbooks open fine, and my colleague\n"
            "can open the same file. I restarted the laptop twice.\n\n"
            "The crash log from the event viewer is attached. I need the file for the\n"
            "board pack due at 4 pm.\n\n"
            "Thanks,\nWei\n"
        ),
    )
    message.add_alternative(
        "<p>Hello,</p><p>since this morning <b>Excel closes without a message</b> whenever I open "
        "<code>\\\\fs01\\finance\\Forecast Q3.xlsx</code>. Other workbooks open fine, and my colleague "
        "can open the same file. I restarted the laptop twice.</p>"
        "<p>The crash log from the event viewer is attached. I need the file for the board pack "
        "due at <b>4 pm</b>.</p><p>Thanks,<br>Wei</p>",
        subtype="html",
    )
    message.add_attachment(
        "Faulting application name: EXCEL.EXE, version: 16.0.17928.20114\r\n"
        "Faulting module name: VBE7.DLL, version: 16.0.17928.20070\r\n"
        "Exception code: 0xc0000005\r\n",
        filename="excel-crash.txt",
    )
    return message.as_bytes(), "chen@example.com"


def _reply(message_id: str) -> tuple[bytes, str] | None:
    """The demo requester answers the notification of their latest open ticket."""
    ticket = (
        Ticket.objects.filter(requester__username=REPLYING_REQUESTER, status__in=OPEN_STATUSES)
        .select_related("requester")
        .order_by("-created_at", "-pk")
        .first()
    )
    if ticket is None or not ticket.requester.email:
        return None
    requester = ticket.requester
    message = _message(
        message_id,
        sender=(requester.get_full_name() or requester.username, requester.email),
        subject=f"Re: [{ticket.number}] {ticket.title}",
        minutes_ago=40,
        text=(
            "Hi,\n\n"
            "I tried again after lunch and it still happens. I can be at my desk\n"
            "from 2 pm if you want to look at it remotely.\n\n"
            f"Best regards,\n{requester.first_name or requester.username}\n\n"
            f"On {format_datetime(timezone.now() - timedelta(hours=3))}, IT Support <{ADDRESS}> wrote:\n"
            f"> Your request {ticket.number} was received.\n"
            f"> Could you tell us whether it happens again after a restart?\n"
        ),
    )
    message["In-Reply-To"] = message_id_for(ticket.number)
    message["References"] = f"{thread_id_for(ticket.number)} {message['In-Reply-To']}"
    return message.as_bytes(), requester.email


def _out_of_office(message_id: str) -> tuple[bytes, str]:
    message = _message(
        message_id,
        sender=("Bob Porter", "bob@example.com"),
        subject="Automatic reply: Your request was received",
        minutes_ago=30,
        text=(
            "I am out of the office until Monday with limited access to e-mail.\n"
            "For urgent matters please contact the Initech front desk.\n"
        ),
    )
    message["Auto-Submitted"] = "auto-replied"
    message["X-Autoreply"] = "yes"
    return message.as_bytes(), "bob@example.com"


def _scanner(message_id: str) -> tuple[bytes, str]:
    # A multifunction printer set up without a sender address: nobody to raise the ticket for.
    message = _message(
        message_id,
        sender='"KONICA MINOLTA bizhub C300i"',
        subject="Message from KM_C300i",
        minutes_ago=15,
        text="Scanned document attached.\n",
    )
    message.add_attachment(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        maintype="application",
        subtype="pdf",
        filename="SKM_C300i_scan.pdf",
    )
    return message.as_bytes(), "scanner@printers.example.com"


MESSAGES: list[tuple[str, Callable[[str], tuple[bytes, str] | None]]] = [
    ("<demo-new-request@mail.example.com>", _new_request),
    ("<demo-requester-reply@mail.example.com>", _reply),
    ("<demo-out-of-office@mail.example.com>", _out_of_office),
    ("<demo-scanner@printers.example.com>", _scanner),
]
