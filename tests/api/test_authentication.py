"""Bearer tokens and sessions: who the API lets in, and what it records when it refuses."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from opsdesk.accounts.choices import Role
from opsdesk.accounts.services import token_create, token_revoke
from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.models import SecurityEvent
from tests.accounts.factories import PASSWORD, UserFactory
from tests.api.problems import assert_problem

pytestmark = pytest.mark.django_db


def _with_token(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_valid_bearer_token_signs_the_user_in(bearer):
    user = UserFactory(role=Role.AGENT)
    response = bearer(user).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["username"] == user.username


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "deactivated"])
def test_a_bad_token_is_a_401_problem_and_a_security_event(state):
    user = UserFactory(role=Role.AGENT)
    token, raw = token_create(
        actor=user,
        user=user,
        expires_at=timezone.now() - datetime.timedelta(minutes=1) if state == "expired" else None,
    )
    if state == "unknown":
        raw = "odk_" + "x" * 43
    elif state == "revoked":
        token_revoke(actor=user, token=token)
    elif state == "deactivated":
        user.is_active = False
        user.save()
    response = _with_token(raw).get("/api/v1/users/me/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"
    event = SecurityEvent.objects.get(kind=SecurityEventKind.TOKEN_REJECTED)
    assert event.detail["token"] == raw[:12] and event.path == "/api/v1/users/me/"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"])
def test_a_malformed_authorization_header_is_a_401_problem(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    assert_problem(client.get("/api/v1/users/me/"), 401)


def test_session_users_must_send_the_csrf_token_on_writes(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.people.manager)
    site = world.location
    assert client.get(f"/api/v1/locations/{site.pk}/").status_code == 200
    refused = client.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Paris"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(refused, 403)
    site.refresh_from_db()
    assert site.city == "Berlin"
    token = "k" * 32  # a CSRF secret as the cookie carries it; the header must repeat it
    client.cookies["csrftoken"] = token
    accepted = client.patch(
        f"/api/v1/locations/{site.pk}/",
        {"city": "Paris"},
        format="json",
        HTTP_IF_MATCH='"1"',
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200, accepted.content


def test_password_exchange_issues_a_token_that_works():
    user = UserFactory(role=Role.AGENT)
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": PASSWORD, "name": "laptop"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "laptop"
    assert _with_token(response.json()["token"]).get("/api/v1/users/me/").json()["id"] == user.pk


def test_wrong_password_is_a_401_problem_and_issues_nothing():
    user = UserFactory(role=Role.AGENT)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": "wrong"}, format="json"
    )
    assert_problem(response, 401)
    assert not user.api_tokens.exists()
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED, username=user.username).exists()


def test_password_exchange_is_throttled(settings):
    user = UserFactory(role=Role.AGENT)
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/token/", {"username": user.username, "password": "wrong"}, format="json"
        ).status_code
        for _ in range(12)
    ]
    assert statuses[-1] == 429
    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert_problem(response, 429)
    assert "Retry-After" in response


def test_deactivated_people_cannot_exchange_a_password():
    user = UserFactory(role=Role.AGENT, is_active=False)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert_problem(response, 401)
