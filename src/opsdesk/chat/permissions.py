"""Who may see chats: the requester their own, agents those of their teams. Nobody else.

Writes go through the services (start, post, accept, end, convert), which check the
participant themselves; the rules below are what the queries return.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import TeamMembership, User
from opsdesk.chat.models import ChatMessage, ChatSession
from opsdesk.core.querysets import register_rule

READ = "view"


def agent_teams(user: User):
    return TeamMembership.objects.filter(user_id=user.pk).values("team_id")


def visible_sessions(user: User, prefix: str = "") -> Q:
    mine = Q(**{f"{prefix}requester": user})
    if user.is_agent:
        mine |= Q(**{f"{prefix}team_id__in": agent_teams(user)}) | Q(**{f"{prefix}agent": user})
    return mine


def sessions_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return visible_sessions(user)
    if action == "add":
        return Q(requester=user)
    if action == "change":
        # The requester ends or converts their own; agents work their teams' chats.
        return visible_sessions(user) if not user.is_read_only else False
    return False


def messages_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return visible_sessions(user, "session__")
    return False


def register() -> None:
    register_rule(ChatSession, sessions_rule)
    register_rule(ChatMessage, messages_rule)
