"""The intake's API: who sees mailboxes and messages, secrets never leave, retry, raw download."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.mail.choices import InboundStatus
from opsdesk.mail.services import mail_deliver
from tests.mail.conftest import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarantined(mailbox, settings):
    settings.MAIL_SENDER_RATE_PER_HOUR = 1
    mail_deliver(mailbox=mailbox, raw=corpus("latin1.eml"))
    return mail_deliver(mailbox=mailbox, raw=corpus("windows1252.eml", **{"bob@": "chloe@"}))


def test_admin_creates_an_imap_mailbox_and_never_reads_its_password(api_as, admin, desk_team):
    client = api_as(admin)
    body = {
        "name": "IT",
        "address": "IT@Example.com",
        "kind": "imap",
        "imap_host": "127.0.0.1",
        "username": "it",
        "password": "secret",
        "team": desk_team.pk,
    }
    response = client.post("/api/v1/mailboxes/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["address"] == "it@example.com" and data["has_password"] and "password" not in data
    missing = client.post(
        "/api/v1/mailboxes/", {**body, "name": "X", "address": "x@example.com", "password": ""}, format="json"
    )
    assert missing.status_code == 400 and "password" in str(missing.json())


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT])
def test_requesters_and_agents_see_no_mailbox_and_no_message(api_as, make_user, role, quarantined):
    client = api_as(make_user(role=role))
    assert client.get("/api/v1/mailboxes/").status_code == 403
    assert client.get("/api/v1/inbound-messages/").status_code == 403
    assert client.get(f"/api/v1/inbound-messages/{quarantined.pk}/raw/").status_code == 403


def test_manager_reads_but_neither_retries_nor_downloads(api_as, make_user, quarantined):
    client = api_as(make_user(role=Role.MANAGER))
    listed = client.get("/api/v1/inbound-messages/?status=quarantined").json()["results"]
    assert [item["id"] for item in listed] == [quarantined.pk]
    assert client.post(f"/api/v1/inbound-messages/{quarantined.pk}/retry/").status_code == 403
    assert client.get(f"/api/v1/inbound-messages/{quarantined.pk}/raw/").status_code == 403


def test_admin_retries_a_quarantined_message_and_downloads_it(api_as, admin, quarantined):
    client = api_as(admin)
    raw = client.get(f"/api/v1/inbound-messages/{quarantined.pk}/raw/")
    assert raw.status_code == 200 and b"smart quotes" in b"".join(raw.streaming_content)
    retried = client.post(f"/api/v1/inbound-messages/{quarantined.pk}/retry/")
    assert retried.status_code == 200 and retried.json()["status"] == InboundStatus.PROCESSED
    again = client.post(f"/api/v1/inbound-messages/{quarantined.pk}/retry/")
    assert again.status_code == 400
