"""The audit log, security log and jobs screens: read-only, filtered, restricted."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.core.audit import acting
from opsdesk.core.choices import JobStatus, SecurityEventKind
from opsdesk.core.models import Job
from opsdesk.core.security_events import security_event_record
from tests.accounts.factories import LocationFactory, SkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user):
    return make_user(role=Role.AUDITOR)


def test_audit_log_shows_each_field_before_and_after(client, make_user, auditor):
    manager = make_user(role=Role.MANAGER)
    with acting(actor=manager):
        site = LocationFactory(name="Lyon", city="")
        site.city = "Lyon"
        site.save()
    client.force_login(auditor)
    response = client.get(reverse("audit_log"), {"object_type": "accounts.location", "operation": "update"})
    assert [entry.object_repr for entry in response.context["object_list"]] == ["Lyon"]
    assert b'<span class="audit-after">Lyon</span>' in response.content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"object_type": "accounts.skill"}, ["Python"]),
        ({"channel": "web"}, ["Python"]),
        ({"q": "Lyon"}, ["Lyon"]),
        ({"since": "2000-01-01", "until": "2000-01-02"}, []),
    ],
)
def test_audit_log_filters(client, make_user, auditor, params, expected):
    manager = make_user(role=Role.MANAGER)
    with acting(actor=manager, channel="api"):
        LocationFactory(name="Lyon")
    with acting(actor=manager, channel="web"):
        SkillFactory(name="Python")
    client.force_login(auditor)
    response = client.get(reverse("audit_log"), params)
    shown = [e.object_repr for e in response.context["object_list"] if e.object_repr in ("Lyon", "Python")]
    assert shown == expected


def test_audit_log_filters_by_actor(client, make_user, auditor):
    manager, other = make_user(role=Role.MANAGER), make_user(role=Role.MANAGER)
    with acting(actor=manager):
        LocationFactory(name="Lyon")
    with acting(actor=other):
        LocationFactory(name="Oslo")
    client.force_login(auditor)
    response = client.get(reverse("audit_log"), {"actor": other.pk, "object_type": "accounts.location"})
    assert [e.object_repr for e in response.context["object_list"]] == ["Oslo"]


def test_detail_page_shows_the_records_own_history_to_auditors_only(client, make_user, auditor):
    manager = make_user(role=Role.MANAGER)
    with acting(actor=manager):
        site = LocationFactory(name="Lyon")
        LocationFactory(name="Oslo")
    client.force_login(auditor)
    entries = client.get(site.get_absolute_url()).context["audit_entries"]
    assert [e.object_repr for e in entries] == ["Lyon"]
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(site.get_absolute_url())
    assert response.context["audit_entries"] is None
    assert b"History" not in response.content


def test_security_log_filters_by_kind(client, auditor):
    security_event_record(kind=SecurityEventKind.LOGIN_FAILED, username="mallory")
    security_event_record(kind=SecurityEventKind.LOGOUT, username="bob")
    client.force_login(auditor)
    response = client.get(reverse("security_log"), {"kind": "login_failed"})
    assert [event.username for event in response.context["object_list"]] == ["mallory"]


def test_job_detail_shows_log_and_error(client, auditor):
    now = timezone.now()
    job = Job.objects.create(
        name="mail.send",
        status=JobStatus.FAILED,
        log="connecting\nretrying",
        error="SMTP 451 try later",
        started_at=now,
        finished_at=now + datetime.timedelta(seconds=3),
    )
    client.force_login(auditor)
    response = client.get(reverse("job_detail", args=[job.pk]))
    assert b"retrying" in response.content and b"SMTP 451 try later" in response.content
    listing = client.get(reverse("job_list"), {"status": "failed"})
    assert list(listing.context["object_list"]) == [job]


def test_logs_are_read_only(client, auditor):
    client.force_login(auditor)
    assert client.post(reverse("audit_log")).status_code == 405
    assert client.post(reverse("security_log")).status_code == 405
