"""Reads of the live chat, restricted to what the reader may see."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from opsdesk.accounts.models import Team, TeamMembership, User
from opsdesk.chat.choices import OPEN_STATUSES, SessionStatus
from opsdesk.chat.constants import HISTORY_LIMIT
from opsdesk.chat.models import ChatMessage, ChatSession
from opsdesk.tickets.choices import OPEN_STATUSES as OPEN_TICKET_STATUSES
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services.assignment import available_agents


def session_list_for(*, user: User) -> QuerySet[ChatSession]:
    return ChatSession.objects.restrict(user, "view").select_related("requester", "agent", "team", "ticket")


def session_get_for(*, user: User, pk: int, action: str = "view") -> ChatSession:
    """The chat ``pk`` if ``user`` may perform ``action`` on it; raises ChatSession.DoesNotExist
    otherwise, so a chat someone may not see looks exactly like a missing one."""
    return (
        ChatSession.objects.restrict(user, action)
        .select_related("requester", "agent", "team", "ticket")
        .get(pk=pk)
    )


def session_open_for_requester(*, user: User) -> ChatSession | None:
    """The requester's chat that is still waiting or going on, if any (one at a time)."""
    return (
        ChatSession.objects.filter(requester=user, status__in=OPEN_STATUSES)
        .select_related("team", "agent", "ticket")
        .order_by("-created_at", "-id")
        .first()
    )


def session_latest_for_requester(*, user: User) -> ChatSession | None:
    return (
        ChatSession.objects.filter(requester=user)
        .select_related("team", "agent", "ticket")
        .order_by("-created_at", "-id")
        .first()
    )


def message_history(*, session: ChatSession, limit: int = HISTORY_LIMIT) -> list[ChatMessage]:
    """The chat's latest ``limit`` messages, oldest first, with their authors."""
    newest = list(
        ChatMessage.objects.filter(session=session).select_related("author").order_by("-id")[:limit]
    )
    return newest[::-1]


def agent_team_ids(*, user: User) -> list[int]:
    return list(TeamMembership.objects.filter(user_id=user.pk).values_list("team_id", flat=True))


def queue_for(*, user: User) -> QuerySet[ChatSession]:
    """The chats waiting in the queues of the agent's teams, oldest first."""
    return (
        ChatSession.objects.filter(team_id__in=agent_team_ids(user=user), status=SessionStatus.WAITING)
        .select_related("requester", "team")
        .order_by("created_at", "id")
    )


def active_for_agent(*, user: User) -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.filter(agent=user, status=SessionStatus.ACTIVE)
        .select_related("requester", "team")
        .order_by("accepted_at", "id")
    )


def recent_for_agent(*, user: User, limit: int = 20) -> list[ChatSession]:
    """The chats of the agent's teams that finished lately, newest first (to convert one later)."""
    return list(
        ChatSession.objects.filter(
            team_id__in=agent_team_ids(user=user),
            status__in=(SessionStatus.ENDED, SessionStatus.ABANDONED, SessionStatus.CONVERTED),
        )
        .select_related("requester", "team", "agent", "ticket")
        .order_by("-ended_at", "-id")[:limit]
    )


def chat_teams() -> QuerySet[Team]:
    """The teams a requester can ask: every team with at least one member."""
    return Team.objects.filter(memberships__isnull=False).distinct().order_by("tier", "name")


def team_available(*, team: Team, at: datetime | None = None) -> bool:
    """Whether an agent of ``team`` can take a chat now (on shift, present, not absent)."""
    return bool(available_agents(team=team, at=at or timezone.now()))


def requester_open_tickets(*, session: ChatSession) -> QuerySet[Ticket]:
    """The chat requester's open tickets, which the transcript may join."""
    return Ticket.objects.filter(requester_id=session.requester_id, status__in=OPEN_TICKET_STATUSES).order_by(
        "-id"
    )
