"""Choices and limits of the e-mail intake."""

from django.db import models


class MailboxKind(models.TextChoices):
    IMAP = "imap", "IMAP (polled)"
    LMTP = "lmtp", "Built-in SMTP/LMTP receiver"


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "SSL/TLS (port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"
    NONE = "none", "None (local servers only)"


class ImapAuth(models.TextChoices):
    PASSWORD = "password", "Password"
    XOAUTH2 = "xoauth2", "OAuth2 access token (XOAUTH2)"


class AfterProcessing(models.TextChoices):
    MOVE = "move", "Move to a folder"
    DELETE = "delete", "Delete"
    KEEP = "keep", "Keep (mark as seen)"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    QUARANTINED = "quarantined", "Quarantined"


# Statuses a retry may start from: the message is stored but made no ticket.
RETRYABLE_STATUSES = (InboundStatus.QUARANTINED, InboundStatus.RECEIVED)

# Parsing limits: a message beyond them is still stored; the parser stops walking there.
MAX_MIME_PARTS = 1000
MAX_HEADER_BYTES = 2 * 1024 * 1024
MAX_TITLE_LENGTH = 200
MAX_BODY_CHARS = 200_000
# How many UIDs one poll fetches at most from a mailbox (the next poll continues).
IMAP_BATCH = 200
IMAP_TIMEOUT_SECONDS = 30
RATE_LIMIT_REASON = "rate limit"
