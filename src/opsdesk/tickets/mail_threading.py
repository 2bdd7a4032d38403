"""How our e-mail threads with tickets: the Message-ID of every message the desk sends names
its ticket and carries a signature, so a reply's In-Reply-To or References leads back to the
ticket without a lookup table, and nobody can forge one that does.

    <opsdesk.INC0001234.8f3a1c2d9e.5b7e0c1a@desk.example.com>
             ticket     unique     signature

Outgoing mail (notifications) creates them with ``message_id_for``; incoming mail reads them
with ``ticket_number_from_headers``. The subject tag ``[INC0001234]`` is the fallback that
mail clients which drop the headers still keep.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings

_ID = re.compile(r"<opsdesk\.([A-Z]{3}\d{4,12})\.([0-9a-f]{10})\.([0-9a-f]{16})@[^>\s]+>")
SUBJECT_TAG = re.compile(r"\[((?:INC|REQ)\d{7,12})\]")


def mail_domain() -> str:
    return getattr(settings, "OPSDESK_MAIL_DOMAIN", "") or urlsplit(settings.SITE_URL).hostname or "localhost"


def _signature(number: str, unique: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{number}.{unique}".encode(), hashlib.sha256).hexdigest()[:16]


def message_id_for(ticket_number: str) -> str:
    """A fresh, signed Message-ID for a message about ``ticket_number``."""
    unique = secrets.token_hex(5)
    return f"<opsdesk.{ticket_number}.{unique}.{_signature(ticket_number, unique)}@{mail_domain()}>"


def thread_id_for(ticket_number: str) -> str:
    """The stable Message-ID of a ticket's thread root, for References of every notification."""
    unique = hashlib.sha256(f"thread.{ticket_number}".encode()).hexdigest()[:10]
    return f"<opsdesk.{ticket_number}.{unique}.{_signature(ticket_number, unique)}@{mail_domain()}>"


def ticket_number_from_headers(*values: str | None) -> str | None:
    """The ticket named by the first validly signed Message-ID of ours in ``values``
    (In-Reply-To, References), or None."""
    for value in values:
        for number, unique, signature in _ID.findall(value or ""):
            if hmac.compare_digest(signature, _signature(number, unique)):
                return number
    return None


def ticket_number_from_subject(subject: str | None) -> str | None:
    match = SUBJECT_TAG.search(subject or "")
    return match.group(1) if match else None
