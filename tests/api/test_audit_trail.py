"""Every change made through the API lands in the audit trail: channel "api", the actor, before and after."""

from __future__ import annotations

import pytest

from opsdesk.core.choices import AuditOperation, Channel
from opsdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entries_for(record):
    return AuditEntry.objects.filter(object_id=str(record.pk), content_type__model=record._meta.model_name)


def test_api_change_is_audited_with_actor_channel_and_before_after(world, bearer):
    site = world.location
    manager = world.people.manager
    response = bearer(manager).patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Potsdam"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    entry = _entries_for(site).get(operation=AuditOperation.UPDATE)
    assert (entry.channel, entry.actor, entry.actor_name) == (Channel.API, manager, manager.username)
    assert entry.changes == {"city": ["Berlin", "Potsdam"]}
    assert entry.request_id == response["X-Request-ID"]


def test_api_create_and_delete_are_audited(world, api_as):
    client = api_as(world.people.admin)
    created = client.post("/api/v1/skills/", {"name": "Kubernetes"}, format="json").json()
    assert client.delete(f"/api/v1/skills/{created['id']}/").status_code == 204
    entries = AuditEntry.objects.filter(object_id=str(created["id"]), content_type__model="skill").order_by(
        "id"
    )
    assert [entry.operation for entry in entries] == [AuditOperation.CREATE, AuditOperation.DELETE]
    assert {entry.channel for entry in entries} == {Channel.API}
    assert {entry.actor for entry in entries} == {world.people.admin}


def test_refused_change_leaves_no_audit_entry(world, api_as):
    site = world.location
    before = _entries_for(site).count()
    api_as(world.people.agent).patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Potsdam"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert _entries_for(site).count() == before


def test_auditors_read_the_trail_through_the_api(world, api_as):
    client = api_as(world.people.admin)
    client.patch(
        f"/api/v1/locations/{world.location.pk}/", {"city": "Potsdam"}, format="json", HTTP_IF_MATCH='"1"'
    )
    response = api_as(world.people.auditor).get(
        "/api/v1/audit/", {"object_type": "accounts.location", "channel": "api"}
    )
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["changes"] == {"city": ["Berlin", "Potsdam"]} and row["actor"] == world.people.admin.pk
