"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from rest_framework.test import APIClient

from opsdesk.accounts.choices import Role
from tests.accounts.factories import OrganizationFactory, UserFactory


class SerialLiveServer(WSGIServer):
    """The live server (browser and webhook tests) answers one request at a time, in its own
    thread. Threaded, as Django's is, two requests at once (a portal form posted while the
    page fetched suggestions, a ticket page's poll) shared the one connection through which
    the server reaches an in-memory SQLite database, and one's savepoint went missing in the
    other ("no such savepoint": a 500 in a browser test, now and then). Without threads the
    server closes each browser connection after its answer (django.core.servers.basehttp)."""

    def __init__(self, *args, connections_override=None, **kwargs):
        # The live server's thread already uses those connections (LiveServerThread.run).
        super().__init__(*args, **kwargs)


LiveServerThread.server_class = SerialLiveServer


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is the production hasher (tested in tests/core/test_security_settings.py);
    # tests hash thousands of passwords and need a cheap one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _search_estimates_per_test(monkeypatch):
    # The search engine keeps what moves slowly (kinds' sizes, their first ids, which indexes
    # there are) a minute per process; a test's documents are its own, gone with it.
    from opsdesk.core import fulltext

    monkeypatch.setattr(fulltext, "_estimates", {})


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    # Production serves hashed names from the manifest `opsdesk serve` collects; tests render
    # templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def make_user(db):
    def make(role: str = Role.REQUESTER, **fields):
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as():
    """An API client authenticated as the given user (session-less, forced auth)."""

    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 that Django's mail goes to for this test."""
    from tests.mailserver import MailServer

    with MailServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield server
