"""A small organisation with one person per role, shared by the web and accounts view tests."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Absence, AgentSkill, Shift
from opsdesk.core.models import Job
from tests.accounts.factories import (
    LocationFactory,
    OrganizationFactory,
    SkillFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)


@pytest.fixture
def world(db):
    org_a, org_b = OrganizationFactory(name="Acme"), OrganizationFactory(name="Globex")
    it = OrganizationFactory(name="IT department")
    people = SimpleNamespace(
        requester=UserFactory(username="rita", role=Role.REQUESTER, organization=org_a),
        other_requester=UserFactory(username="otto", role=Role.REQUESTER, organization=org_b),
        agent=UserFactory(username="anna", role=Role.AGENT, organization=it),
        lead=UserFactory(username="leo", role=Role.TEAM_LEAD, organization=it),
        manager=UserFactory(username="mia", role=Role.MANAGER, organization=it),
        auditor=UserFactory(username="aldo", role=Role.AUDITOR, organization=it),
        admin=UserFactory(username="ada", role=Role.ADMIN, organization=it),
    )
    team = TeamFactory(name="Service desk", lead=people.lead)
    TeamMembershipFactory(team=team, user=people.lead)
    TeamMembershipFactory(team=team, user=people.agent)
    skill = SkillFactory(name="Networking")
    now = timezone.now()
    return SimpleNamespace(
        **vars(people),
        org_a=org_a,
        org_b=org_b,
        team=team,
        skill=skill,
        location=LocationFactory(name="Berlin HQ"),
        shift=Shift.objects.create(
            user=people.agent, weekday=0, starts=datetime.time(8), ends=datetime.time(16)
        ),
        absence=Absence.objects.create(
            user=people.agent,
            starts_at=now + datetime.timedelta(days=1),
            ends_at=now + datetime.timedelta(days=2),
        ),
        agent_skill=AgentSkill.objects.create(user=people.agent, skill=skill, level=4),
        job=Job.objects.create(name="opsdesk.core.tasks.cleanup", log="started\nfinished", error=""),
    )
