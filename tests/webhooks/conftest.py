"""Fixtures of the webhook tests: a source, and a sender that signs exactly as docs/webhooks.md
tells a real one to (Python's hmac over ``<timestamp>.<body>``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.webhooks.services import source_create

FIELD_MAP = {
    "title": "$.alert.name",
    "description": "$.alert.summary",
    "external_id": "$.alert.id",
    "impact": "$.severity",
    "urgency": "$.severity",
    "status": "$.alert.state",
}
VALUE_MAP = {
    "impact": {"critical": 1, "warning": 2, "info": 3},
    "urgency": {"critical": 1, "warning": 2, "info": 3},
    "status": {"resolved": "resolved", "firing": "open"},
}


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="ada")


@pytest.fixture
def bot(make_user):
    return make_user(role=Role.AGENT, username="monitoring-bot", first_name="Monitoring", last_name="Bot")


@pytest.fixture
def make_source(admin, bot):
    def make(**fields):
        data = {
            "name": "Alertmanager",
            "slug": "alertmanager",
            "account": bot,
            "field_map": FIELD_MAP,
            "value_map": VALUE_MAP,
            **fields,
        }
        return source_create(actor=admin, data=data)

    return make


@pytest.fixture
def source_and_secret(make_source):
    return make_source()


def sign(secret: str, body: bytes, timestamp: str | None) -> str:
    """Exactly what a sender computes (docs/webhooks.md, "Python")."""
    message = f"{timestamp}.".encode() + body if timestamp else body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def alert(alert_id: str = "a-1", *, state: str = "firing", severity: str = "critical", **extra) -> dict:
    return {
        "severity": severity,
        "alert": {"id": alert_id, "name": "Disk full on db1", "summary": "/var is 98 % full", "state": state},
        **extra,
    }


@pytest.fixture
def post_delivery(client):
    """POST a delivery to /webhooks/in/<slug>/, signed unless told otherwise."""

    def post(
        source,
        secret,
        payload=None,
        *,
        body: bytes | None = None,
        delivery_id: str | None = None,
        timestamp: str | None = None,
        signature: str | None = None,
        content_type: str = "application/json",
        headers: dict | None = None,
    ):
        raw = body if body is not None else json.dumps(payload if payload is not None else alert()).encode()
        stamp = str(int(time.time())) if timestamp is None else timestamp
        extra = {
            "HTTP_X_OPSDESK_DELIVERY": delivery_id if delivery_id is not None else str(uuid.uuid4()),
            "HTTP_X_OPSDESK_SIGNATURE": signature
            if signature is not None
            else sign(secret, raw, stamp or None),
        }
        if stamp:
            extra["HTTP_X_OPSDESK_TIMESTAMP"] = stamp
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        return client.post(f"/webhooks/in/{source.slug}/", data=raw, content_type=content_type, **extra)

    return post
