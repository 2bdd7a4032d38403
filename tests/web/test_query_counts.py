"""List pages stay cheap however many rows they show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.core.audit import acting
from tests.accounts.factories import LocationFactory, OrganizationFactory, TeamFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db

MAX_LIST_QUERIES = 10


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER, Role.REQUESTER])
def test_user_list_with_30_people_stays_bounded(client, make_user, django_assert_max_num_queries, role):
    organization = OrganizationFactory()
    site = LocationFactory()
    for _ in range(30):
        make_user(organization=organization, location=site)
    viewer = make_user(role=role, organization=organization)
    client.force_login(viewer)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(reverse("accounts:user_list"), {"sort": "organization"})
    assert response.status_code == 200


def test_team_list_with_30_teams_stays_bounded(client, make_user, django_assert_max_num_queries):
    lead = make_user(role=Role.TEAM_LEAD)
    for _ in range(30):
        TeamMembershipFactory(team=TeamFactory(lead=lead))
    client.force_login(make_user(role=Role.AGENT))
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(reverse("accounts:team_list"))
    assert len(response.context["object_list"]) == 25


def test_organization_list_with_30_organisations_stays_bounded(
    client, make_user, django_assert_max_num_queries
):
    parent = OrganizationFactory()
    for _ in range(30):
        OrganizationFactory(parent=parent)
    client.force_login(make_user(role=Role.AGENT))
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        client.get(reverse("accounts:organization_list"))


def test_audit_log_with_many_entries_stays_bounded(client, make_user, django_assert_max_num_queries):
    manager = make_user(role=Role.MANAGER)
    with acting(actor=manager):
        for _ in range(30):
            LocationFactory()
    client.force_login(make_user(role=Role.AUDITOR))
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(reverse("audit_log"))
    assert len(response.context["object_list"]) == 25
