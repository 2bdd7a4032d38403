"""Nobody gives themselves power through a PATCH: protected fields are refused, naming the field,
and nothing at all is written."""

from __future__ import annotations

import pytest

from opsdesk.accounts.models import User
from opsdesk.core.models import AuditEntry
from tests.api.problems import assert_problem

pytestmark = pytest.mark.django_db


def _snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (
        user.role,
        user.organization_id,
        user.is_active,
        user.is_staff,
        user.is_superuser,
        user.username,
        user.is_vip,
        user.first_name,
        user.version,
    )


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("role", "admin", 403),
        ("role", "agent", 403),
        ("organization", "elsewhere", 403),
        ("is_active", False, 403),
        ("is_vip", True, 403),
        ("username", "root", 403),
        ("is_staff", True, 400),
        ("is_superuser", True, 400),
        ("id", 1, 400),
        ("last_login", "2020-01-01T00:00:00Z", 400),
    ],
)
def test_requester_cannot_patch_protected_fields_of_their_own_record(world, api_as, field, value, status):
    me = world.people.requester
    if value == "elsewhere":
        value = world.elsewhere.pk
    before, entries = _snapshot(me), AuditEntry.objects.count()
    response = api_as(me).patch(
        f"/api/v1/users/{me.pk}/",
        {"first_name": "Mallory", field: value},
        format="json",
        HTTP_IF_MATCH=f'"{me.version}"',
    )
    assert_problem(response, status, field=field)
    assert _snapshot(me) == before
    assert AuditEntry.objects.count() == entries


def test_manager_cannot_make_anyone_an_admin(world, api_as):
    target = world.people.agent
    before = _snapshot(target)
    response = api_as(world.people.manager).patch(
        f"/api/v1/users/{target.pk}/",
        {"role": "admin", "job_title": "Root"},
        format="json",
        HTTP_IF_MATCH=f'"{target.version}"',
    )
    body = assert_problem(response, 403, field="role")
    assert "administrator" in body["detail"]
    assert _snapshot(target) == before


def test_manager_cannot_create_an_admin(world, api_as):
    response = api_as(world.people.manager).post(
        "/api/v1/users/", {"username": "eve", "role": "admin"}, format="json"
    )
    assert_problem(response, 403, field="role")
    assert not User.objects.filter(username="eve").exists()


def test_manager_cannot_change_an_administrators_record(world, api_as):
    admin = world.people.admin
    before = _snapshot(admin)
    response = api_as(world.people.manager).patch(
        f"/api/v1/users/{admin.pk}/", {"first_name": "Eve"}, format="json", HTTP_IF_MATCH=f'"{admin.version}"'
    )
    assert_problem(response, 403)
    assert _snapshot(admin) == before


def test_nobody_but_a_superuser_changes_their_own_role(world, api_as):
    manager = world.people.manager
    response = api_as(manager).patch(
        f"/api/v1/users/{manager.pk}/", {"role": "agent"}, format="json", HTTP_IF_MATCH=f'"{manager.version}"'
    )
    assert_problem(response, 403, field="role")


def test_full_update_that_repeats_protected_fields_unchanged_is_allowed(world, api_as):
    me = world.people.requester
    client = api_as(me)
    current = client.get(f"/api/v1/users/{me.pk}/").json()
    writable = {
        key: current[key]
        for key in (
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "organization",
            "location",
            "job_title",
            "phone",
            "language",
            "time_zone",
            "is_vip",
            "presence",
            "is_active",
        )
    }
    response = client.put(
        f"/api/v1/users/{me.pk}/",
        {**writable, "phone": "+49 30 99"},
        format="json",
        HTTP_IF_MATCH=f'"{current["version"]}"',
    )
    assert response.status_code == 200, response.content
    refused = client.put(
        f"/api/v1/users/{me.pk}/",
        {**writable, "role": "agent"},
        format="json",
        HTTP_IF_MATCH=response["ETag"],
    )
    assert_problem(refused, 403, field="role")


def test_password_is_write_only(world, api_as):
    me = world.people.agent
    response = api_as(me).get(f"/api/v1/users/{me.pk}/")
    assert "password" not in response.json()
