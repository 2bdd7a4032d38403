"""The HMAC-SHA256 signature a sender puts on each delivery, and its check.

The signed string is the raw body, prefixed with the timestamp and a dot when the sender
sends ``X-OpsDesk-Timestamp`` (``b"1767268800." + body``): a captured request cannot be
replayed later with a fresh timestamp, and an old one is refused by age. The header reads
``X-OpsDesk-Signature: sha256=<hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from opsdesk.webhooks.constants import SECRET_BYTES

SCHEME = "sha256="


def new_secret() -> str:
    """A fresh random secret (URL-safe base64, 43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def signed_bytes(*, body: bytes, timestamp: str | None) -> bytes:
    return f"{timestamp}.".encode("ascii") + body if timestamp else body


def sign(*, secret: str, body: bytes, timestamp: str | None = None) -> str:
    """The header value a sender computes: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode(), signed_bytes(body=body, timestamp=timestamp), hashlib.sha256)
    return SCHEME + digest.hexdigest()


def signature_matches(*, header: str, secrets_to_try: list[str], body: bytes, timestamp: str | None) -> bool:
    """Whether ``header`` is the signature of the body under one of the secrets (constant time)."""
    header = header.strip()
    if not header.lower().startswith(SCHEME):
        return False
    given = header[len(SCHEME) :].strip().lower().encode("ascii", "replace")
    matched = False
    for secret in secrets_to_try:
        expected = sign(secret=secret, body=body, timestamp=timestamp)[len(SCHEME) :].encode("ascii")
        # Every secret is compared, so timing does not tell which one (or none) matched.
        matched |= hmac.compare_digest(expected, given)
    return matched
