"""People and chats for the live chat tests, made through the real services."""

from __future__ import annotations

from opsdesk.accounts.choices import Role
from opsdesk.chat import services
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory


def desk(name: str = "Service desk", agents: int = 1):
    """A team with ``agents`` agents (no shifts: always on shift)."""
    team = TeamFactory(name=name)
    members = [
        TeamMembershipFactory(
            team=team, user=UserFactory(role=Role.AGENT, username=f"{name[:4].lower()}agent{n}")
        ).user
        for n in range(agents)
    ]
    return team, members


def requester(username: str = "rita"):
    return UserFactory(role=Role.REQUESTER, username=username, first_name="Rita", last_name="Lang")


def started_chat(*, team, who, body: str = "My laptop will not start"):
    return services.chat_start(actor=who, team=team, body=body, origin="portal")
