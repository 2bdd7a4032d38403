"""Who may see and record learning.

Agents see and record their own training and certifications; team leads also those of the
members of the teams they lead; managers read everything (core) and maintain everything;
administrators do anything (core). Requesters see nothing.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import TeamMembership, User
from opsdesk.accounts.permissions import led_member_ids
from opsdesk.core.querysets import register_rule
from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    StepCompletion,
    TrainingRecord,
)

READ = "view"


def _is_lead(user: User) -> bool:
    return user.led_teams.exists()


def own_or_led(user: User, action: str) -> Q | bool:
    """A person's own learning records, and those of the members of teams they lead."""
    if not user.is_agent:
        return False
    if user.is_manager:
        return True
    allowed = Q(user=user)
    if _is_lead(user):
        allowed |= Q(user_id__in=led_member_ids(user))
    return allowed


def paths_rule(user: User, action: str) -> Q | bool:
    """Every agent reads the paths; managers maintain them all, team leads create their own."""
    if not user.is_agent:
        return False
    if action == READ or user.is_manager:
        return True
    if not _is_lead(user):
        return False
    return True if action == "add" else Q(owner=user)


def steps_rule(user: User, action: str) -> Q | bool:
    if not user.is_agent:
        return False
    if action == READ or user.is_manager:
        return True
    return Q(path__owner=user) if _is_lead(user) else False


def assignments_rule(user: User, action: str) -> Q | bool:
    """Agents see the paths set for them or their teams; leads set paths for their teams and
    members; managers for anyone."""
    if not user.is_agent:
        return False
    if user.is_manager:
        return True
    led = Q(team__lead=user) | Q(user_id__in=led_member_ids(user)) if _is_lead(user) else None
    if action == READ:
        mine = Q(user=user) | Q(team_id__in=TeamMembership.objects.filter(user=user).values("team_id"))
        return mine | led if led is not None else mine
    return led if led is not None else False


def completions_rule(user: User, action: str) -> Q | bool:
    """Each agent marks their own steps read (and can undo that); leads follow their members."""
    if not user.is_agent:
        return False
    if action == READ:
        return own_or_led(user, action)
    if action in ("add", "delete"):
        return Q(user=user)
    return False


def register() -> None:
    register_rule(TrainingRecord, own_or_led)
    register_rule(Certification, own_or_led)
    register_rule(LearningPath, paths_rule)
    register_rule(LearningPathStep, steps_rule)
    register_rule(LearningPathAssignment, assignments_rule)
    register_rule(StepCompletion, completions_rule)
