"""Writes of the e-mail intake: mailboxes, and every message from its arrival to its ticket.

A message is first stored (raw bytes under the media storage, a row with its natural key) and
committed; only then is it processed, in a second transaction that writes its ticket or reply
and its outcome together. A failure there leaves the message quarantined, never lost; a second
delivery of the same message becomes a ``duplicate`` row and creates nothing.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import re
import smtplib
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Organization, User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update
from opsdesk.core.uploads import check_upload
from opsdesk.mail import selectors
from opsdesk.mail.choices import (
    MAX_TITLE_LENGTH,
    RATE_LIMIT_REASON,
    RETRYABLE_STATUSES,
    InboundStatus,
    MailboxKind,
)
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.mail.parsing import (
    ParsedAttachment,
    ParsedMessage,
    html_without_cid_images,
    one_line,
    parse_message,
)
from opsdesk.tickets.choices import Channel, EventKind, Status
from opsdesk.tickets.mail_threading import ticket_number_from_headers, ticket_number_from_subject
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import ticket_attach, ticket_create, ticket_reply
from opsdesk.tickets.services.assignment import apply_assignment, assignee_pick
from opsdesk.tickets.services.lifecycle import record_event
from opsdesk.tickets.signals import announce_change

logger = logging.getLogger("opsdesk.mail")

MAILBOX_SECRETS = ("password", "oauth2_token")
MAX_ERROR_CHARS = 4000
USERNAME_SAFE = re.compile(r"[^\w.@+-]")


# --- mailboxes ---------------------------------------------------------------------------------
def mailbox_save(
    *, actor: User, data: dict[str, Any], mailbox: Mailbox | None = None, expected_version: int | None = None
) -> Mailbox:
    """Create a mailbox, or change ``mailbox``. A secret left empty on an edit keeps the stored one."""
    data = {key: value for key, value in data.items() if key not in {"last_uid", "uidvalidity"}}
    if "address" in data:
        data["address"] = (data["address"] or "").strip().lower()
    if mailbox is None:
        return record_create(model=Mailbox, actor=actor, data=data)
    for name in MAILBOX_SECRETS:
        if name in data and not data[name]:
            del data[name]
    if {"imap_host", "username", "folder"} & {name for name in data if data[name] != getattr(mailbox, name)}:
        # Another server or folder: its UIDs mean nothing to us, start over (Message-IDs still dedupe).
        data.update(last_uid=0, uidvalidity=None)
    return record_update(instance=mailbox, actor=actor, data=data, expected_version=expected_version)


def mailbox_record_poll(*, mailbox: Mailbox, ok: bool, message: str) -> None:
    """Keep the last poll's outcome on the mailbox (shown on its page)."""
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=timezone.now(), last_poll_ok=ok, last_poll_message=one_line(message, 2000)
    )


def mailbox_delete(*, actor: User, mailbox: Mailbox, expected_version: int | None = None) -> None:
    """Delete a mailbox that never received anything; one with messages keeps them on record
    and is deactivated instead."""
    ensure_allowed(actor=actor, action="delete", instance=mailbox)
    received = mailbox.messages.count()
    if received:
        raise ServiceError(
            f"{mailbox.name} has received {received} message{'s' if received != 1 else ''}, which stay on "
            "record: deactivate the mailbox instead (edit it and untick “Active”).",
            code="mailbox_in_use",
        )
    record_delete(instance=mailbox, actor=actor, expected_version=expected_version)


@dataclass
class ConnectionCheck:
    """What the "Test connection" button found: whether it worked, in plain words."""

    ok: bool
    message: str


RECEIVER_CHECK_TIMEOUT = 10


def mailbox_test_connection(*, actor: User, mailbox: Mailbox) -> ConnectionCheck:
    """Try the mailbox as the intake would, changing nothing (administrators).

    IMAP: sign in and select the folder. Built-in receiver: open a session with the receiver at
    ``OPSDESK_SMTP_LISTEN`` and ask whether it accepts the mailbox's address (``RCPT TO``, then
    ``RSET``: no message is sent). Never raises for a server's answer; the message says what
    went wrong."""
    ensure_allowed(actor=actor, action="change", instance=mailbox)
    if mailbox.kind == MailboxKind.IMAP:
        return _test_imap(mailbox)
    return _test_receiver(mailbox)


def _test_imap(mailbox: Mailbox) -> ConnectionCheck:
    from opsdesk.mail import imap  # (the poller builds on this module: imported when needed)

    try:
        return ConnectionCheck(True, imap.mailbox_test_connection(mailbox))
    except imap.ImapError as exc:
        return ConnectionCheck(False, _plain_server_error(str(exc)))
    except Exception as exc:  # (a dropped connection, a timeout, an answer imap-tools cannot read)
        logger.warning("mail: connection test of %s failed", mailbox, exc_info=True)
        return ConnectionCheck(
            False,
            f"The connection to {mailbox.imap_host}:{mailbox.port} failed: "
            f"{_plain_server_error(f'{type(exc).__name__}: {exc}')}",
        )


SERVER_DATA = re.compile(r"Data: \[(?:b)?['\"](.*?)['\"]\]", re.S)


def _plain_server_error(text: str) -> str:
    """imap-tools reports refusals as ``Response status "OK" expected, but "NO" received. Data:
    [b'[AUTHENTICATIONFAILED] Authentication failed.']``: keep the server's own words."""
    match = SERVER_DATA.search(text)
    if match:
        text = text[: text.find("Response status")].rstrip(" :") + ": " + match.group(1)
    return one_line(text, 1000)


def _listen_address(value: str) -> tuple[str, int, bool] | None:
    """``[lmtp://|smtp://]host:port`` (as ``OPSDESK_SMTP_LISTEN``) → (host, port, lmtp)."""
    value = (value or "").strip()
    lmtp = value.lower().startswith("lmtp://")
    if "://" in value:
        value = value.split("://", 1)[1]
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        return None
    host = host.strip("[]")
    # A receiver listening on every interface is reached here on the loopback.
    if host in ("0.0.0.0", "::", "*"):  # noqa: S104 - a listen address read, nothing bound
        host = "127.0.0.1"
    return host, int(port), lmtp


def _test_receiver(mailbox: Mailbox) -> ConnectionCheck:
    listen = settings.SMTP_LISTEN
    if not listen:
        return ConnectionCheck(
            False,
            f"OPSDESK_SMTP_LISTEN is not set, so no receiver runs and mail to {mailbox.address} cannot "
            "arrive. Set it (e.g. 127.0.0.1:2525, or lmtp://127.0.0.1:2424) and restart opsdesk serve.",
        )
    address = _listen_address(listen)
    if address is None:
        return ConnectionCheck(
            False,
            f"OPSDESK_SMTP_LISTEN is [lmtp://]host:port, e.g. 127.0.0.1:2525; not “{one_line(listen)}”.",
        )
    host, port, lmtp = address
    protocol = "LMTP" if lmtp else "SMTP"
    client_class = smtplib.LMTP if lmtp else smtplib.SMTP
    try:
        with client_class(host, port, timeout=RECEIVER_CHECK_TIMEOUT) as client:
            client.ehlo_or_helo_if_needed()
            code, reply = client.mail("")
            if code == 250:
                code, reply = client.rcpt(mailbox.address)
            client.rset()
    except (OSError, smtplib.SMTPException) as exc:
        return ConnectionCheck(
            False,
            f"Nothing answers as an {protocol} receiver at {host}:{port} ({one_line(str(exc), 300)}). "
            "Is opsdesk serve (or opsdesk mail-receiver) running with this OPSDESK_SMTP_LISTEN?",
        )
    answer = one_line(reply.decode("utf-8", "replace"), 300)
    if code == 250:
        return ConnectionCheck(
            True, f"The {protocol} receiver at {host}:{port} accepts mail for {mailbox.address}."
        )
    if not mailbox.is_active:
        return ConnectionCheck(
            False,
            f"The receiver at {host}:{port} refuses {mailbox.address} ({code} {answer}): the mailbox is "
            "inactive. Tick “Active” to receive its mail.",
        )
    return ConnectionCheck(
        False, f"The {protocol} receiver at {host}:{port} refuses {mailbox.address}: {code} {answer}"
    )


# --- arrival -----------------------------------------------------------------------------------
@dataclass
class Delivery:
    """What happened to one delivered message: the row, and whether it was new."""

    message: InboundMessage
    created: bool


def dedupe_key_for(message_id: str, sha256: str) -> str:
    if not message_id:
        return f"sha256:{sha256}"
    if len(message_id) > 200:
        return "mid-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return message_id


def inbound_receive(
    *,
    mailbox: Mailbox,
    raw: bytes,
    parsed: ParsedMessage | None = None,
    envelope_from: str = "",
    imap_uid: int | None = None,
    uidvalidity: int | None = None,
) -> Delivery:
    """Store a delivered message and commit it. A message already stored (same Message-ID, or
    the same content without one) is recorded as a duplicate of it; the same IMAP UID again
    returns the stored row untouched."""
    parsed = parsed or parse_message(raw)
    digest = hashlib.sha256(raw).hexdigest()
    key = dedupe_key_for(parsed.message_id, digest)
    now = timezone.now()
    fields = {
        "mailbox": mailbox,
        "message_id": parsed.message_id[:998],
        "dedupe_key": key,
        "sha256": digest,
        "imap_uid": imap_uid,
        "uidvalidity": uidvalidity if imap_uid is not None else None,
        "size": len(raw),
        "envelope_from": one_line(envelope_from, 320),
        "from_address": parsed.from_address,
        "from_name": parsed.from_name,
        "subject": parsed.subject,
        "received_at": now,
        "notes": parsed.notes,
    }
    if imap_uid is not None:
        known = InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, imap_uid=imap_uid
        ).first()
        if known is not None:
            return Delivery(known, created=False)
    original = _original(key)
    if original is None:
        message = InboundMessage(**fields)
        message.raw.save(f"{uuid.uuid4().hex}.eml", ContentFile(raw), save=False)
        try:
            with transaction.atomic():
                message.save()
            return Delivery(message, created=True)
        except IntegrityError:
            # Someone stored the same message a moment ago (a double delivery in parallel).
            message.raw.delete(save=False)
            original = _original(key)
            if original is None:
                known = InboundMessage.objects.filter(
                    mailbox=mailbox, uidvalidity=uidvalidity, imap_uid=imap_uid
                ).first()
                if known is not None:
                    return Delivery(known, created=False)
                raise
    duplicate = InboundMessage(
        **fields,
        status=InboundStatus.DUPLICATE,
        reason=f"Same message as #{original.pk}.",
        duplicate_of=original,
        ticket=original.ticket,
        processed_at=now,
    )
    with transaction.atomic():
        duplicate.save()
    logger.info("mail: duplicate of #%s (%s) ignored", original.pk, key)
    return Delivery(duplicate, created=False)


def _original(key: str) -> InboundMessage | None:
    return InboundMessage.objects.filter(dedupe_key=key).exclude(status=InboundStatus.DUPLICATE).first()


def mail_deliver(
    *,
    mailbox: Mailbox,
    raw: bytes,
    envelope_from: str = "",
    imap_uid: int | None = None,
    uidvalidity: int | None = None,
) -> InboundMessage:
    """Store, commit, then process one message (the receiver and the poller call this)."""
    parsed = parse_message(raw)
    delivery = inbound_receive(
        mailbox=mailbox,
        raw=raw,
        parsed=parsed,
        envelope_from=envelope_from,
        imap_uid=imap_uid,
        uidvalidity=uidvalidity,
    )
    if not delivery.created:
        return delivery.message
    return inbound_process(message=delivery.message, parsed=parsed)


# --- processing --------------------------------------------------------------------------------
def inbound_retry(*, actor: User, message: InboundMessage) -> InboundMessage:
    """Process a quarantined message again (administrators), without the sender rate limit:
    releasing it is a person's decision."""
    ensure_allowed(actor=actor, action="change", instance=message)
    if message.status not in RETRYABLE_STATUSES:
        raise ServiceError(
            f"Only quarantined messages are retried; this one is {message.get_status_display().lower()}.",
            code="not_quarantined",
        )
    with acting(actor=actor):
        logger.info("mail: %s retries message #%s", actor, message.pk)
        return inbound_process(message=message, rate_limit=False)


def inbound_process(
    *, message: InboundMessage, parsed: ParsedMessage | None = None, rate_limit: bool = True
) -> InboundMessage:
    """Turn a stored message into a ticket or a reply, or ignore or quarantine it, with its
    outcome in the same transaction. Never raises for a bad message: it ends quarantined."""
    InboundMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    message.attempts += 1
    try:
        if parsed is None:
            with message.raw.open("rb") as handle:
                parsed = parse_message(handle.read())
        with transaction.atomic(), acting(channel=Channel.EMAIL):
            locked = InboundMessage.objects.select_for_update().select_related("mailbox").get(pk=message.pk)
            if locked.status not in RETRYABLE_STATUSES:
                return locked
            _route(locked, parsed, rate_limit=rate_limit)
            locked.processed_at = timezone.now()
            locked.notes = parsed.notes
            locked.save()
        return locked
    except Exception as exc:  # (whatever went wrong, the message stays for a retry)
        logger.exception("mail: message #%s quarantined", message.pk)
        reason = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        InboundMessage.objects.filter(pk=message.pk).update(
            status=InboundStatus.QUARANTINED, reason=reason[:MAX_ERROR_CHARS], processed_at=timezone.now()
        )
        message.refresh_from_db()
        return message


def _route(message: InboundMessage, parsed: ParsedMessage, *, rate_limit: bool) -> None:
    """Decide and write the outcome of ``message`` (inside the processing transaction)."""
    if parsed.noise:
        return _set(message, InboundStatus.IGNORED, f"Automatic mail: {parsed.noise}.")
    if message.envelope_from == "<>":
        return _set(message, InboundStatus.IGNORED, "Automatic mail: bounce (empty return path).")
    if not parsed.from_address:
        return _set(message, InboundStatus.QUARANTINED, "The message has no usable From address.")
    if parsed.from_address in selectors.own_addresses():
        return _set(
            message, InboundStatus.IGNORED, f"Mail from our own address {parsed.from_address} (a loop)."
        )
    limit = settings.MAIL_SENDER_RATE_PER_HOUR
    if (
        rate_limit
        and limit
        and selectors.recent_messages_from(
            address=parsed.from_address, now=message.received_at, exclude_pk=message.pk
        )
        >= limit
    ):
        return _set(
            message,
            InboundStatus.QUARANTINED,
            f"{RATE_LIMIT_REASON}: more than {limit} messages an hour from {parsed.from_address}.",
        )
    sender = _sender(parsed)
    if not sender.is_active:
        return _set(
            message, InboundStatus.QUARANTINED, f"The account of {parsed.from_address} is deactivated."
        )
    attachments, refused = _checked_attachments(parsed.attachments)
    number = ticket_number_from_headers(parsed.in_reply_to, parsed.references) or ticket_number_from_subject(
        parsed.subject
    )
    ticket = selectors.ticket_by_number(number)
    if ticket is not None and selectors.is_participant(user=sender, ticket=ticket):
        if ticket.status not in (Status.CLOSED, Status.CANCELLED):
            return _reply(message, parsed, sender, ticket, attachments, refused)
        parsed.notes.append(
            f"{ticket.number} is {ticket.get_status_display().lower()}: a new ticket was raised."
        )
    elif ticket is not None:
        parsed.notes.append(f"Names {ticket.number}, but the sender is not on it: a new ticket was raised.")
    _new_ticket(message, parsed, sender, attachments, refused, follows=ticket)


def _set(message: InboundMessage, status: str, reason: str = "") -> None:
    message.status, message.reason = status, reason
    if status != InboundStatus.PROCESSED:
        logger.info("mail: message #%s %s: %s", message.pk, status, reason)


def _sender(parsed: ParsedMessage) -> User:
    """The person who wrote: the account with this address, or a new requester account
    (no password: they sign in through "forgot password" or single sign-on)."""
    user = selectors.user_for_address(parsed.from_address)
    if user is not None:
        return user
    domain = parsed.from_address.rsplit("@", 1)[-1]
    first, _, last = (parsed.from_name or "").partition(" ")
    base = USERNAME_SAFE.sub("_", parsed.from_address)[:140]
    for attempt in range(5):
        username = base if attempt == 0 else f"{base}-{uuid.uuid4().hex[:6]}"
        user = User(
            username=username,
            email=parsed.from_address,
            role=Role.REQUESTER,
            first_name=first[:150],
            last_name=last[:150],
            organization=Organization.objects.filter(email_domain__iexact=domain).first(),
        )
        user.set_unusable_password()
        try:
            user.full_clean(exclude=["organization"])
        except ValidationError as exc:
            if "username" in exc.message_dict and attempt < 4:
                existing = selectors.user_for_address(parsed.from_address)
                if existing is not None:
                    return existing
                continue
            raise ServiceError(
                f"The sender address {parsed.from_address} is not usable: {exc.messages[0]}"
            ) from exc
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # The same new sender's other message created the account a moment ago.
            existing = selectors.user_for_address(parsed.from_address)
            if existing is not None:
                return existing
            continue
        logger.info("mail: new requester %s created for %s", user.username, parsed.from_address)
        return user
    raise ServiceError(f"No account could be created for {parsed.from_address}.")


def _checked_attachments(
    items: list[ParsedAttachment],
) -> tuple[list[tuple[ParsedAttachment, Any]], list[str]]:
    kept, refused = [], []
    for item in items:
        upload = SimpleUploadedFile(item.name, item.data, content_type=item.content_type)
        try:
            check_upload(upload)
        except ServiceError as error:
            refused.append(f"{item.name}: {error.message}")
            continue
        kept.append((item, upload))
    return kept, refused


def _with_refusals(text: str, refused: list[str]) -> str:
    if not refused:
        return text
    listed = "\n".join(f"- {line}" for line in refused)
    return f"{text}\n\n*Attachments not kept (they stay in the stored message):*\n{listed}".strip()


def _attach(message: InboundMessage, sender: User, ticket: Ticket, attachments, refused: list[str]) -> None:
    for item, upload in attachments:
        try:
            ticket_attach(actor=sender, ticket=ticket, upload=upload, public=True)
        except (NotAllowed, ServiceError) as error:
            refused.append(f"{item.name}: {error.message}")
    message.notes = [*message.notes, *refused]


def _new_ticket(
    message, parsed: ParsedMessage, sender: User, attachments, refused, *, follows: Ticket | None
):
    mailbox = message.mailbox
    text = parsed.body_text.strip()
    if (
        follows is not None
        and follows.status in (Status.CLOSED, Status.CANCELLED)
        and follows.requester_id == sender.pk
    ):
        text = f"Follow-up to {follows.number}.\n\n{text}"
    html = html_without_cid_images(parsed.html, parsed.attachments) if parsed.html and not refused else None
    title = (parsed.title or f"E-mail from {parsed.from_address}")[:MAX_TITLE_LENGTH]
    ticket = ticket_create(
        actor=sender,
        requester=sender,
        title=title,
        type=mailbox.ticket_type,
        description=_with_refusals(text or "(The message had no text.)", refused),
        description_html=html,
        service=mailbox.service,
        channel=Channel.EMAIL,
    )
    if mailbox.team_id and ticket.assigned_team_id is None:
        now = timezone.now()
        assignee, strategy = assignee_pick(ticket=ticket, team=mailbox.team, at=now)
        changes = apply_assignment(ticket=ticket, team=mailbox.team, assignee=assignee, at=now)
        ticket.save()
        record_event(
            ticket,
            EventKind.ASSIGNMENT,
            None,
            body=f"Arrived in the mailbox {mailbox.name}.",
            data={"strategy": strategy, **changes, "mailbox": mailbox.pk},
        )
        announce_change(ticket)
    _attach(message, sender, ticket, attachments, refused=[])
    message.ticket = ticket
    message.event = ticket.events.filter(kind=EventKind.CREATED).first()
    _set(message, InboundStatus.PROCESSED)


def _reply(message, parsed: ParsedMessage, sender: User, ticket: Ticket, attachments, refused) -> None:
    new, quoted = parsed.new_and_quoted
    if not new:
        new = (
            f"(Sent {len(attachments)} attachment{'s' if len(attachments) != 1 else ''}.)"
            if attachments
            else ""
        )
    if not new and not quoted:
        return _set(message, InboundStatus.IGNORED, "An empty reply: nothing to add to the ticket.")
    event = ticket_reply(
        actor=sender, ticket=ticket, body=_with_refusals(new or quoted, refused), public=True
    )
    if quoted and new:
        # The timeline shows the new part; the quoted rest stays one click away.
        folded = (
            '<details class="mail-quoted"><summary>Show quoted text</summary>'
            f'<pre class="mail-quoted-text">{html_lib.escape(quoted)}</pre></details>'
        )
        event.body_html += folded
        TimelineEvent.objects.filter(pk=event.pk).update(body_html=event.body_html)
    _attach(message, sender, ticket, attachments, refused=[])
    message.ticket, message.event = ticket, event
    _set(message, InboundStatus.PROCESSED)
