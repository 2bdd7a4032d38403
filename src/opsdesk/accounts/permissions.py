"""Who may see and change people, organisations and teams.

Administrators (everything) and auditors/managers (read everything) are handled by
``opsdesk.core.querysets``; the rules here cover everyone else. Each returns True (all
rows), False (none) or a Q of the rows allowed.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import (
    Absence,
    AgentSkill,
    ApiToken,
    Location,
    Organization,
    Shift,
    Skill,
    Team,
    TeamMembership,
    User,
)
from opsdesk.core.querysets import register_rule

READ = "view"


def led_member_ids(user: User):
    """Ids of the agents in the teams this user leads, as a subquery."""
    return TeamMembership.objects.filter(team__lead=user).values("user_id")


def users_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        if user.is_agent:
            return True
        mine = Q(pk=user.pk)
        if user.organization_id and user.organization.requesters_see_organization:
            mine |= Q(organization_id=user.organization_id)
        return mine
    if action == "change":
        # Everyone edits their own profile; the service decides which fields they may touch.
        return Q(pk=user.pk)
    return False


def organizations_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return True if user.is_agent else Q(pk=user.organization_id) if user.organization_id else False
    return False


def locations_rule(user: User, action: str) -> Q | bool:
    # Every signed-in person picks their site; only managers and admins change sites.
    return action == READ


def staff_read_only_rule(user: User, action: str) -> Q | bool:
    return action == READ and user.is_agent


def teams_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    if action == "change" and user.is_agent:
        return Q(lead=user)
    return False


def memberships_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    if action in ("add", "delete") and user.is_agent and user.led_teams.exists():
        return Q(team__lead=user)
    return False


def led_people_rule(user: User, action: str) -> Q | bool:
    """Skills and shifts: staff read them; a team lead also maintains those of their members."""
    if not user.is_agent:
        return False
    if action == READ:
        return True
    if user.led_teams.exists():
        return Q(user_id__in=led_member_ids(user))
    return False


def absences_rule(user: User, action: str) -> Q | bool:
    if not user.is_agent:
        return False
    if action == READ:
        return True
    # Agents record their own time away; leads also record it for their members.
    return Q(user=user) | Q(user_id__in=led_member_ids(user))


def tokens_rule(user: User, action: str) -> Q | bool:
    return Q(user=user) if action in (READ, "add", "delete") else False


def manager_writes(rule):
    """Managers maintain the people directory: add, change and delete on top of ``rule``."""

    def wrapped(user: User, action: str) -> Q | bool:
        if action != READ and user.is_manager and user.is_active:
            return True
        return rule(user, action)

    return wrapped


def register() -> None:
    register_rule(User, manager_writes(users_rule))
    register_rule(Organization, manager_writes(organizations_rule))
    register_rule(Location, manager_writes(locations_rule))
    register_rule(Team, manager_writes(teams_rule))
    register_rule(TeamMembership, manager_writes(memberships_rule))
    register_rule(Skill, manager_writes(staff_read_only_rule))
    register_rule(AgentSkill, manager_writes(led_people_rule))
    register_rule(Shift, manager_writes(led_people_rule))
    register_rule(Absence, manager_writes(absences_rule))
    register_rule(ApiToken, tokens_rule)
