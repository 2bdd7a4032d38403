"""Optimistic concurrency: two people edit the same record from the version they read; the
second save is refused with 409 and the first one survives."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Location
from tests.accounts.factories import LocationFactory, UserFactory


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_second_of_two_edits_from_the_same_version_gets_409_and_the_first_survives():
    manager = UserFactory(role=Role.MANAGER)
    site = LocationFactory(name="Berlin", city="Berlin")
    alice, bob = _client(manager), _client(manager)
    etag_alice = alice.get(f"/api/v1/locations/{site.pk}/")["ETag"]
    etag_bob = bob.get(f"/api/v1/locations/{site.pk}/")["ETag"]
    assert etag_alice == etag_bob == '"1"'

    first = alice.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Potsdam"}, format="json", HTTP_IF_MATCH=etag_alice
    )
    second = bob.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Hamburg"}, format="json", HTTP_IF_MATCH=etag_bob
    )

    assert first.status_code == 200 and first["ETag"] == '"2"'
    assert second.status_code == 409
    assert second["Content-Type"].startswith("application/problem+json")
    site.refresh_from_db()
    assert (site.city, site.version) == ("Potsdam", 2)


@pytest.mark.django_db
def test_the_same_holds_for_a_person_edited_through_their_service():
    manager = UserFactory(role=Role.MANAGER)
    agent = UserFactory(role=Role.AGENT, job_title="Agent")
    version = agent.version
    ok = _client(manager).patch(
        f"/api/v1/users/{agent.pk}/",
        {"job_title": "Senior agent"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    stale = _client(manager).patch(
        f"/api/v1/users/{agent.pk}/", {"job_title": "Lead"}, format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    assert (ok.status_code, stale.status_code) == (200, 409)
    agent.refresh_from_db()
    assert agent.job_title == "Senior agent"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_simultaneous_edits_on_two_connections_let_exactly_one_win():
    manager = UserFactory(role=Role.MANAGER)
    site = LocationFactory(name="Berlin", city="Berlin")
    start = threading.Barrier(2)
    results: dict[str, int] = {}

    def edit(city: str) -> None:
        try:
            client = _client(manager)
            start.wait(timeout=10)
            response = client.patch(
                f"/api/v1/locations/{site.pk}/", {"city": city}, format="json", HTTP_IF_MATCH='"1"'
            )
            results[city] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(city,)) for city in ("Potsdam", "Hamburg")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values()) == [200, 409]
    [winner] = [city for city, status in results.items() if status == 200]
    site = Location.objects.get(pk=site.pk)
    assert (site.city, site.version) == (winner, 2)
