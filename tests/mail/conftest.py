"""Fixtures of the e-mail intake tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.mail.choices import MailboxKind
from opsdesk.mail.models import Mailbox
from tests.accounts.factories import TeamFactory, TeamMembershipFactory

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str, **replacements: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for old, new in replacements.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


@pytest.fixture
def desk_team(make_user):
    team = TeamFactory(name="Service Desk")
    TeamMembershipFactory(team=team, user=make_user(role=Role.AGENT, username="desk-agent"))
    return team


@pytest.fixture
def mailbox(db, desk_team):
    return Mailbox.objects.create(
        name="Support", address="support@example.com", kind=MailboxKind.LMTP, team=desk_team
    )


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="mail-admin")
