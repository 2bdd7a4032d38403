from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory


@pytest.fixture
def people(db):
    class People:
        agent = UserFactory(username="kb-agent", role=Role.AGENT)
        other_agent = UserFactory(username="kb-other", role=Role.AGENT)
        manager = UserFactory(username="kb-manager", role=Role.MANAGER)
        requester = UserFactory(username="kb-requester", role=Role.REQUESTER)
        auditor = UserFactory(username="kb-auditor", role=Role.AUDITOR)
        network = TeamFactory(name="Network")

    TeamMembershipFactory(team=People.network, user=People.agent)
    return People
