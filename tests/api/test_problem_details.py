"""Every refusal under /api/ is an RFC 9457 problem detail, and a refused request writes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from opsdesk.accounts.models import Location, Organization, User
from opsdesk.core.models import AuditEntry
from tests.accounts.factories import UserFactory
from tests.api.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(world, api_as):
    return api_as(world.people.manager)


@pytest.fixture
def site(world):
    return world.location


def _nothing_written(check):
    """Run ``check`` and assert the audit trail (every domain write lands there) did not grow."""
    before = AuditEntry.objects.count()
    check()
    assert AuditEntry.objects.count() == before


def test_unknown_api_address_is_a_problem_not_an_html_page(manager_client):
    assert_problem(manager_client.get("/api/v1/no-such-thing/"), 404)
    assert_problem(Client().get("/api/nowhere"), 404)


def test_missing_record_is_a_404_problem(manager_client):
    assert_problem(manager_client.get("/api/v1/locations/999999/"), 404)
    assert_problem(manager_client.get("/api/v1/locations/not-a-number/"), 404)
    assert_problem(manager_client.get("/api/v1/users/99999999999999999999999/"), 404)


def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(manager_client):
    response = manager_client.put("/api/v1/locations/", {}, format="json")
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_form_encoded_body_is_a_415_problem(manager_client):
    _nothing_written(
        lambda: assert_problem(
            manager_client.post("/api/v1/locations/", {"name": "Paris"}, format="multipart"), 415
        )
    )
    assert not Location.objects.filter(name="Paris").exists()


def test_unacceptable_accept_header_is_a_406_problem(manager_client):
    assert_problem(manager_client.get("/api/v1/locations/", HTTP_ACCEPT="text/csv"), 406)


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "Paris"',  # truncated
        b"\xff\xfe{\x00}",  # not UTF-8
        b'{"name": "Paris", "city": NaN}',  # not JSON
        b"[" * 100_000 + b"]" * 100_000,  # nested past any parser's stack
    ],
    ids=["truncated", "invalid-utf8", "nan", "deeply-nested"],
)
def test_malformed_json_is_a_400_problem(manager_client, body):
    _nothing_written(
        lambda: assert_problem(
            manager_client.generic("POST", "/api/v1/locations/", body, content_type="application/json"), 400
        )
    )


def test_body_larger_than_the_limit_is_a_413_problem(manager_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "Paris", "address": "x" * 2000})
    _nothing_written(
        lambda: assert_problem(
            manager_client.generic("POST", "/api/v1/locations/", body, content_type="application/json"), 413
        )
    )


def test_body_that_is_not_an_object_is_a_400_problem(manager_client):
    assert_problem(
        manager_client.post("/api/v1/locations/", ["Paris"], format="json"), 400, field="non_field_errors"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Paris", "colour": "blue"}, "colour"),
        ({"name": "Paris", "id": 7}, "id"),
        ({"name": "Paris", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"name": 42}, "name"),
        ({"name": "Paris", "country": ["FR"]}, "country"),
        ({"name": "Paris", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "Paris\x00"}, "name"),
    ],
    ids=[
        "unknown",
        "read-only-id",
        "read-only-timestamp",
        "number-for-string",
        "list-for-string",
        "invalid",
        "nul",
    ],
)
def test_refused_fields_are_named_and_nothing_is_created(manager_client, body, field):
    _nothing_written(
        lambda: assert_problem(
            manager_client.post("/api/v1/locations/", body, format="json"), 400, field=field
        )
    )
    assert not Location.objects.filter(name="Paris").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_vip": "yes"}, "is_vip"),
        ({"kind": 1}, "kind"),
        ({"parent": "1"}, "parent"),
        ({"location": True}, "location"),
    ],
)
def test_wrong_json_types_are_refused_not_coerced(world, manager_client, body, field):
    org = world.elsewhere
    response = manager_client.patch(
        f"/api/v1/organizations/{org.pk}/", body, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(response, 400, field=field)
    org.refresh_from_db()
    assert org.version == 1


def test_nul_character_in_a_query_parameter_is_a_400_problem(manager_client):
    assert_problem(manager_client.get("/api/v1/users/", {"search": "a\x00b"}), 400, field="search")


def test_out_of_range_filter_value_is_a_400_problem(manager_client):
    assert_problem(manager_client.get("/api/v1/teams/", {"member": "9" * 40}), 400, field="member")


def test_patch_without_a_version_is_a_428_problem(world, manager_client, site):
    response = manager_client.patch(f"/api/v1/locations/{site.pk}/", {"city": "Paris"}, format="json")
    assert_problem(response, 428)
    site.refresh_from_db()
    assert (site.city, site.version) == ("Berlin", 1)


def test_put_without_a_version_is_a_428_problem(world, manager_client, site):
    response = manager_client.put(
        f"/api/v1/locations/{site.pk}/", {"name": "Berlin", "city": "Paris"}, format="json"
    )
    assert_problem(response, 428)
    site.refresh_from_db()
    assert site.city == "Berlin"


@pytest.mark.parametrize("header", ["3", '"three"', "W/", '"1", "2"'])
def test_malformed_if_match_is_a_400_problem(manager_client, site, header):
    response = manager_client.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Paris"}, format="json", HTTP_IF_MATCH=header
    )
    assert_problem(response, 400, field="If-Match")
    site.refresh_from_db()
    assert site.city == "Berlin"


@pytest.mark.parametrize("version", ["1", True, 0, -1])
def test_malformed_body_version_is_a_400_problem(manager_client, site, version):
    response = manager_client.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Paris", "version": version}, format="json"
    )
    assert_problem(response, 400, field="version")


def test_stale_version_is_a_409_problem(manager_client, site):
    response = manager_client.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Paris"}, format="json", HTTP_IF_MATCH='"7"'
    )
    assert_problem(response, 409, field="version")
    site.refresh_from_db()
    assert (site.city, site.version) == ("Berlin", 1)


def test_version_in_the_body_works_like_if_match(manager_client, site):
    response = manager_client.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Paris", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert_problem(
        manager_client.patch(f"/api/v1/locations/{site.pk}/", {"city": "Lyon", "version": 1}, format="json"),
        409,
    )


def test_if_match_star_applies_the_change_to_the_current_version(manager_client, site):
    response = manager_client.patch(
        f"/api/v1/locations/{site.pk}/", {"city": "Paris"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200


def test_stale_delete_is_refused(manager_client, site):
    assert_problem(manager_client.delete(f"/api/v1/locations/{site.pk}/", HTTP_IF_MATCH='"5"'), 409)
    assert Location.objects.filter(pk=site.pk).exists()
    assert manager_client.delete(f"/api/v1/locations/{site.pk}/", HTTP_IF_MATCH='"1"').status_code == 204


def test_deleting_an_organisation_people_belong_to_is_a_409_problem(world, api_as):
    response = api_as(world.people.admin).delete(f"/api/v1/organizations/{world.home.pk}/")
    assert_problem(response, 409)
    assert Organization.objects.filter(pk=world.home.pk).exists()


def test_a_rule_broken_by_the_model_is_a_400_naming_the_field(world, manager_client):
    response = manager_client.post(
        "/api/v1/shifts/",
        {"user": world.people.member.pk, "weekday": 1, "starts": "09:00", "ends": "09:00"},
        format="json",
    )
    assert_problem(response, 400, field="ends")


def test_weak_password_is_refused_naming_the_field_and_the_profile_is_unchanged(world, api_as):
    me = world.people.agent
    version = me.version
    response = api_as(me).patch(
        f"/api/v1/users/{me.pk}/",
        {"job_title": "Boss", "password": "1234567890"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert_problem(response, 400, field="password")
    me.refresh_from_db()
    assert (me.job_title, me.version) == ("", version)


def test_creating_someone_with_a_weak_password_creates_nobody(manager_client):
    response = manager_client.post(
        "/api/v1/users/", {"username": "newbie", "password": "password12"}, format="json"
    )
    assert_problem(response, 400, field="password")
    assert not User.objects.filter(username="newbie").exists()


def test_duplicate_team_member_is_a_400_problem(world, api_as):
    response = api_as(world.people.lead).post(
        f"/api/v1/teams/{world.team.pk}/members/", {"user": world.people.member.pk}, format="json"
    )
    assert_problem(response, 400, field="user")


def test_requester_cannot_join_a_support_team(world, api_as):
    response = api_as(world.people.manager).post(
        f"/api/v1/teams/{world.team.pk}/members/", {"user": world.people.requester.pk}, format="json"
    )
    assert_problem(response, 400, field="user")
    assert not world.team.members.filter(pk=world.people.requester.pk).exists()


def test_errors_never_leak_as_html_for_server_errors(world, api_as, monkeypatch):
    from opsdesk.accounts.api import views

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.LocationViewSet, "list", explode)
    client = api_as(UserFactory(role="admin"))
    client.raise_request_exception = False
    assert_problem(client.get("/api/v1/locations/"), 500)


def test_filter_times_with_any_offset_python_accepts_work_on_every_database(manager_client):
    response = manager_client.get("/api/v1/audit/", {"at_before": "2020-05-21T21:09:09-19:36"})
    assert response.status_code in (200, 403)
    response = manager_client.get("/api/v1/absences/", {"starts_at__gte": "2020-05-21T21:09:09+23:59"})
    assert response.status_code == 200
    assert manager_client.get("/api/v1/users/me/").status_code == 200  # the connection is still usable
