"""A small organisation for API tests: two customer organisations, one person per role, a team
led by a team lead, and one record of every kind."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from opsdesk.accounts.choices import Role
from opsdesk.accounts.services import token_create
from tests.accounts.factories import (
    AbsenceFactory,
    AgentSkillFactory,
    LocationFactory,
    OrganizationFactory,
    ShiftFactory,
    SkillFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Throttling and lockout counters live in the cache; one test's must not leak into the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    home = OrganizationFactory(name="Acme")
    elsewhere = OrganizationFactory(name="Globex")
    it = OrganizationFactory(name="Acme IT")
    people = SimpleNamespace(
        requester=UserFactory(role=Role.REQUESTER, organization=home),
        colleague=UserFactory(role=Role.REQUESTER, organization=home),
        outsider=UserFactory(role=Role.REQUESTER, organization=elsewhere),
        agent=UserFactory(role=Role.AGENT, organization=it),
        member=UserFactory(role=Role.AGENT, organization=it),
        lead=UserFactory(role=Role.TEAM_LEAD, organization=it),
        manager=UserFactory(role=Role.MANAGER, organization=it),
        auditor=UserFactory(role=Role.AUDITOR, organization=it),
        admin=UserFactory(role=Role.ADMIN, organization=it),
    )
    team = TeamFactory(name="Service desk", lead=people.lead)
    TeamMembershipFactory(team=team, user=people.member)
    other_team = TeamFactory(name="Network")
    skill = SkillFactory(name="Linux")
    return SimpleNamespace(
        home=home,
        elsewhere=elsewhere,
        people=people,
        team=team,
        other_team=other_team,
        location=LocationFactory(name="Berlin"),
        skill=skill,
        spare_skill=SkillFactory(name="Windows"),
        agent_skill=AgentSkillFactory(user=people.member, skill=skill),
        shift=ShiftFactory(user=people.member),
        absence=AbsenceFactory(user=people.member),
    )


@pytest.fixture
def bearer():
    """An API client that sends a real ``Authorization: Bearer`` token of the given user."""

    def client_for(user):
        _, raw = token_create(actor=user, user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return client_for
