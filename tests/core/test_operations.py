"""/healthz, /readyz, /metrics, structured logs and the security headers every page carries."""

import json
import logging

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import RequestFactory

from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.logging import JsonFormatter
from opsdesk.core.models import SecurityEvent

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_metrics_count_requests_by_route_not_by_raw_path(client):
    client.get("/healthz")
    body = client.get("/metrics").content.decode()
    assert 'opsdesk_http_requests_total{method="GET",route="healthz",status="200"}' in body
    assert "opsdesk_http_request_duration_seconds_bucket" in body


def test_metrics_need_the_token_when_one_is_configured(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").status_code == 200


def test_pages_carry_csp_nosniff_and_frame_denial(client):
    response = client.get("/healthz")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from opsdesk.config import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_failed_logins_are_logged_and_lock_the_account_after_the_limit(make_user):
    user = make_user(username="victim")
    factory = RequestFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        request = factory.post("/login/", REMOTE_ADDR="192.0.2.7")
        assert authenticate(request, username="victim", password="wrong password") is None
    request = factory.post("/login/", REMOTE_ADDR="192.0.2.7")
    assert authenticate(request, username="victim", password="password123!") is None
    kinds = list(SecurityEvent.objects.filter(username="victim").values_list("kind", flat=True))
    assert kinds.count(SecurityEventKind.LOGIN_FAILED) >= settings.AXES_FAILURE_LIMIT
    assert SecurityEventKind.LOCKOUT in kinds
    assert user.is_active


def test_logs_are_one_json_object_per_line():
    record = logging.LogRecord("opsdesk.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.ticket = "INC0001001"
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "hello world"
    assert payload["level"] == "info"
    assert payload["ticket"] == "INC0001001"
