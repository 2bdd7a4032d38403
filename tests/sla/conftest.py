"""Fixtures and a frozen clock shared by the SLA tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from opsdesk.accounts.choices import Role
from tests.accounts.factories import TeamFactory, TeamMembershipFactory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(minutes: float):
    """Freeze the clock ``minutes`` after T0."""
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def now_plus(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def agent(make_user):
    return make_user(role=Role.AGENT, username="agent")


@pytest.fixture
def requester(make_user):
    return make_user(username="req")


@pytest.fixture
def desk(agent):
    team = TeamFactory(name="Service desk")
    TeamMembershipFactory(team=team, user=agent)
    return team
