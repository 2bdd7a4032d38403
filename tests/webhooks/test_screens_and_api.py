"""The webhook screens and API: administrators keep sources, managers and auditors read them,
everyone else is refused; the secret shows once; deliveries are listed with their statuses."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.core.models import AuditEntry
from opsdesk.webhooks.choices import DeliveryStatus
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource
from tests.webhooks.conftest import FIELD_MAP, alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, admin):
    return {
        "admin": admin,
        "manager": make_user(role=Role.MANAGER, username="mona"),
        "auditor": make_user(role=Role.AUDITOR, username="audrey"),
        "agent": make_user(role=Role.AGENT, username="arno"),
        "requester": make_user(role=Role.REQUESTER, username="rita"),
    }


@pytest.fixture
def delivered(source_and_secret, post_delivery):
    source, secret = source_and_secret
    post_delivery(source, secret, alert("a-1"), delivery_id="ok-1")
    post_delivery(source, secret, alert("a-1"), delivery_id="ok-1")
    post_delivery(
        source, secret, {"alert": {"id": "x"}, "note": "<script>alert(1)</script>"}, delivery_id="bad-map"
    )
    post_delivery(source, secret, alert("a-2"), delivery_id="forged", signature="sha256=00")
    return source


def login(client, user):
    client.force_login(user)


PAGES = [
    "source_list",
    "source_detail",
    "source_edit",
    "source_create",
    "source_rotate",
    "delivery_list",
    "delivery_detail",
]
EXPECTED = {
    "admin": dict.fromkeys(PAGES, 200),
    "manager": {**dict.fromkeys(PAGES, 200), "source_edit": 403, "source_create": 403, "source_rotate": 403},
    "auditor": {**dict.fromkeys(PAGES, 200), "source_edit": 403, "source_create": 403, "source_rotate": 403},
    "agent": {
        **dict.fromkeys(PAGES, 403),
        "source_detail": 404,
        "source_edit": 404,
        "source_rotate": 404,
        "delivery_detail": 404,
    },
    "requester": {
        **dict.fromkeys(PAGES, 403),
        "source_detail": 404,
        "source_edit": 404,
        "source_rotate": 404,
        "delivery_detail": 404,
    },
}


def url_of(name, source, delivery):
    if name.startswith("source_") and name not in ("source_list", "source_create"):
        return reverse(f"webhooks:{name}", args=[source.pk])
    if name == "delivery_detail":
        return reverse("webhooks:delivery_detail", args=[delivery.pk])
    return reverse(f"webhooks:{name}")


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("name", PAGES)
def test_pages_answer_each_role_as_the_rules_say(client, people, delivered, who, name):
    login(client, people[who])
    response = client.get(url_of(name, delivered, WebhookDelivery.objects.first()))
    assert response.status_code == EXPECTED[who][name]


def test_anonymous_visitors_are_sent_to_sign_in(client, delivered):
    response = client.get(reverse("webhooks:source_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_creating_a_source_shows_its_secret_once_and_never_again(client, people, bot):
    login(client, people["admin"])
    response = client.post(
        reverse("webhooks:source_create"),
        {
            "name": "Zabbix",
            "slug": "zabbix",
            "is_active": "on",
            "require_timestamp": "on",
            "account": bot.pk,
            "ticket_type": "incident",
            "channel": "monitoring",
            "impact": 3,
            "urgency": 3,
            "field_map": json.dumps(FIELD_MAP),
            "value_map": "",
            "update_visibility": "internal",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    source = WebhookSource.objects.get(slug="zabbix")
    assert source.secret in response.content.decode()
    detail = client.get(source.get_absolute_url()).content.decode()
    assert source.secret not in detail and "/webhooks/in/zabbix/" in detail
    # The audit trail records that a secret was set, never its value.
    entry = AuditEntry.objects.get(
        object_id=str(source.pk), operation="create", content_type__model="webhooksource"
    )
    assert entry.changes["secret"] == ["***", "***"]
    assert source.secret not in json.dumps(entry.changes)


def test_a_bad_mapping_comes_back_with_its_reasons(client, people, bot):
    login(client, people["admin"])
    response = client.post(
        reverse("webhooks:source_create"),
        {
            "name": "Bad",
            "slug": "bad",
            "account": bot.pk,
            "ticket_type": "incident",
            "channel": "api",
            "impact": 3,
            "urgency": 3,
            "field_map": '{"description": "alert.summary"',
            "value_map": '{"impact": {"p1": 9}}',
            "update_visibility": "internal",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not valid JSON" in page and "must map to 1 (high), 2 (medium) or 3 (low)" in page
    assert not WebhookSource.objects.filter(slug="bad").exists()


def test_rotating_shows_the_new_secret_once_and_the_old_one_stops(client, people, source_and_secret):
    source, old = source_and_secret
    login(client, people["admin"])
    response = client.post(reverse("webhooks:source_rotate", args=[source.pk]), {"version": source.version})
    assert response.status_code == 200
    source.refresh_from_db()
    assert source.secret != old and source.secret in response.content.decode()
    assert source.secrets_in_force() == [source.secret]


def test_a_rotation_from_a_stale_page_is_refused(client, people, source_and_secret):
    source, _ = source_and_secret
    login(client, people["admin"])
    response = client.post(
        reverse("webhooks:source_rotate", args=[source.pk]), {"version": source.version + 5}
    )
    assert response.status_code == 409


def test_the_delivery_list_shows_each_status_and_filters_by_it(client, people, delivered):
    login(client, people["manager"])
    page = client.get(reverse("webhooks:delivery_list")).content.decode()
    for status in ("processed", "duplicate", "failed", "rejected"):
        assert f'data-status="{status}"' in page
    failed_only = client.get(reverse("webhooks:delivery_list"), {"status": "failed"}).content.decode()
    assert 'data-status="failed"' in failed_only and 'data-status="processed"' not in failed_only


def test_a_delivery_payload_is_shown_escaped(client, people, delivered):
    login(client, people["admin"])
    failed = WebhookDelivery.objects.get(status=DeliveryStatus.FAILED)
    page = client.get(failed.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "no title at $.alert.name" in page


def test_only_administrators_replay_and_a_replay_acts_once(client, people, delivered, admin):
    from opsdesk.webhooks.services import source_update

    failed = WebhookDelivery.objects.get(status=DeliveryStatus.FAILED)
    url = reverse("webhooks:delivery_replay", args=[failed.pk])
    login(client, people["manager"])
    assert client.post(url).status_code == 403
    source_update(
        actor=admin, source=delivered, data={"field_map": {"title": "$.note", "external_id": "$.alert.id"}}
    )
    login(client, people["admin"])
    response = client.post(url)
    assert response.status_code == 302
    replay = WebhookDelivery.objects.get(replay_of=failed)
    assert replay.status == DeliveryStatus.PROCESSED and replay.ticket is not None
    client.post(url)
    assert WebhookDelivery.objects.filter(replay_of=failed).count() == 1


# --- API -------------------------------------------------------------------------------------------
SOURCES = "/api/v1/webhook-sources/"
DELIVERIES = "/api/v1/webhook-deliveries/"


def test_api_administrators_create_a_source_and_get_its_secret_once(api_as, admin, bot):
    client = api_as(admin)
    response = client.post(
        SOURCES,
        {"name": "CI", "slug": "ci", "account": bot.pk, "field_map": {"title": "$.job"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    secret = response.json()["secret"]
    source = WebhookSource.objects.get(slug="ci")
    assert secret == source.secret and response.json()["endpoint"].endswith("/webhooks/in/ci/")
    listed = client.get(SOURCES).json()
    assert secret not in json.dumps(listed)
    assert secret not in json.dumps(client.get(f"{SOURCES}{source.pk}/").json())


def test_api_refuses_a_bad_mapping_with_problem_details(api_as, admin, bot):
    response = api_as(admin).post(
        SOURCES, {"name": "CI", "slug": "ci", "account": bot.pk, "field_map": {"title": "job"}}, format="json"
    )
    assert response.status_code == 400
    assert "must start with $" in json.dumps(response.json()["errors"]["field_map"])


def test_api_rotation_returns_the_new_secret(api_as, admin, source_and_secret):
    source, old = source_and_secret
    response = api_as(admin).post(
        f"{SOURCES}{source.pk}/rotate-secret/", {"keep_previous": True}, format="json"
    )
    assert response.status_code == 200
    source.refresh_from_db()
    assert response.json()["secret"] == source.secret != old
    assert response.json()["previous_secret_expires_at"] is not None


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("manager", 200, 403), ("auditor", 200, 403), ("agent", 403, 403), ("requester", 403, 403)],
)
def test_api_others_read_or_are_refused(api_as, people, delivered, who, read, write):
    client = api_as(people[who])
    assert client.get(SOURCES).status_code == read
    assert client.get(DELIVERIES).status_code == read
    assert client.patch(
        f"{SOURCES}{delivered.pk}/", {"is_active": False, "version": delivered.version}, format="json"
    ).status_code in (write, 404)
    assert client.post(f"{SOURCES}{delivered.pk}/rotate-secret/", {}, format="json").status_code in (
        write,
        404,
    )


def test_api_deliveries_are_read_only_and_filter_by_status(api_as, admin, delivered):
    client = api_as(admin)
    rows = client.get(DELIVERIES, {"status": "duplicate"}).json()["results"]
    assert [row["delivery_id"] for row in rows] == ["ok-1"]
    assert rows[0]["ticket"].startswith("INC")
    assert client.post(DELIVERIES, {}, format="json").status_code == 405
    assert client.delete(f"{DELIVERIES}{rows[0]['id']}/").status_code == 405
