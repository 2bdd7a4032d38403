"""Reads of the e-mail intake."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from opsdesk.accounts.models import User
from opsdesk.mail.choices import InboundStatus, MailboxKind
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.tickets.models import Ticket


def mailbox_for_address(address: str) -> Mailbox | None:
    """The active receiver mailbox for an envelope recipient (case-insensitive), or None."""
    return (
        Mailbox.objects.filter(address=(address or "").strip().lower(), is_active=True, kind=MailboxKind.LMTP)
        .select_related("team", "service")
        .first()
    )


def mailboxes_to_poll() -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(is_active=True, kind=MailboxKind.IMAP).order_by("pk")


def own_addresses() -> set[str]:
    """Every address the desk itself sends or receives at: mail from these is a loop."""
    from email.utils import parseaddr

    addresses = {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}
    for value in (settings.DEFAULT_FROM_EMAIL, getattr(settings, "SERVER_EMAIL", "")):
        address = parseaddr(value or "")[1].lower()
        if address:
            addresses.add(address)
    return addresses


def recent_messages_from(*, address: str, now: datetime, exclude_pk: int | None = None) -> int:
    """How many of ``address``'s messages arrived in the hour before ``now`` (not counting
    duplicates and ignored machine mail)."""
    queryset = InboundMessage.objects.filter(
        from_address=address, received_at__gte=now - timedelta(hours=1), received_at__lte=now
    ).exclude(status__in=(InboundStatus.DUPLICATE, InboundStatus.IGNORED))
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.count()


def user_for_address(address: str) -> User | None:
    """The person with this e-mail address: an active account first, the oldest first."""
    return User.objects.filter(email__iexact=address).order_by("-is_active", "pk").first()


def ticket_by_number(number: str | None) -> Ticket | None:
    if not number:
        return None
    return Ticket.objects.filter(number=number).select_related("requester").first()


def is_participant(*, user: User, ticket: Ticket) -> bool:
    """Requester, watcher or an agent who may work the ticket: the people mail may add to it."""
    if not user.is_active:
        return False
    if user.pk == ticket.requester_id or ticket.watchers.filter(pk=user.pk).exists():
        return True
    return user.is_agent and not user.is_read_only
