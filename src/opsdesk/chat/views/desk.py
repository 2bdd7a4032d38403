"""The agents' side: the chat queue of their teams (live), a chat they answer, and turning its
transcript into a ticket or adding it to one. Ending a chat is for both sides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from opsdesk.chat import selectors, services
from opsdesk.chat.choices import CONVERTIBLE_STATUSES
from opsdesk.chat.constants import MAX_MESSAGE_LENGTH
from opsdesk.chat.views.common import frameable, session_or_404, websocket_path, widget_url
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets.models import Ticket


def _require_agent(user) -> None:
    if not user.is_agent:
        raise PermissionDenied("The chat queue is for the service desk.")


def _queue_context(user) -> dict:
    return {
        "waiting": list(selectors.queue_for(user=user)),
        "active": list(selectors.active_for_agent(user=user)),
        "recent": selectors.recent_for_agent(user=user),
        "has_teams": bool(selectors.agent_team_ids(user=user)),
    }


@login_required
@require_GET
def queue(request):
    """Chats waiting for the agent's teams, the agent's own chats, and the recently finished."""
    _require_agent(request.user)
    return render(request, "chat/queue.html", _queue_context(request.user))


@login_required
@require_GET
def queue_list(request):
    """The queue's lists alone, refreshed whenever the queue socket says something changed."""
    _require_agent(request.user)
    return render(request, "chat/partials/queue_list.html", _queue_context(request.user))


@login_required
@require_GET
def session(request, pk: int):
    """One chat, as the agent answering it (or a colleague of the team) sees it."""
    _require_agent(request.user)
    chat = session_or_404(request.user, pk)
    is_agent = request.user.pk == chat.agent_id
    context = {
        "chat": chat,
        "ws_path": websocket_path(chat),
        "max_length": MAX_MESSAGE_LENGTH,
        "can_write": is_agent and chat.status == "active",
        "can_convert": chat.ticket_id is None
        and chat.status in CONVERTIBLE_STATUSES
        and not request.user.is_read_only,
        "open_tickets": list(selectors.requester_open_tickets(session=chat)[:50]),
    }
    return render(request, "chat/session.html", context)


@login_required
@require_POST
def accept(request, pk: int):
    """Take a waiting chat. Of two agents clicking at once, the second hears who was quicker."""
    _require_agent(request.user)
    chat = session_or_404(request.user, pk)
    try:
        services.chat_accept(actor=request.user, session=chat)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.warning(request, exc.message)
        return redirect("chat:queue")
    return redirect("chat:session", pk=chat.pk)


@login_required
@require_POST
@frameable
def end(request, pk: int):
    """End a chat (either side; the requester from the widget, which may sit in a frame)."""
    chat = session_or_404(request.user, pk)
    try:
        services.chat_end(actor=request.user, session=chat)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    if request.user.pk == chat.requester_id:
        return redirect(widget_url(request))
    return redirect("chat:session", pk=chat.pk)


@login_required
@require_POST
def convert(request, pk: int):
    """The transcript becomes a new ticket of the chat's requester."""
    _require_agent(request.user)
    chat = session_or_404(request.user, pk)
    try:
        ticket = services.chat_convert(actor=request.user, session=chat, title=request.POST.get("title", ""))
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("chat:session", pk=chat.pk)
    messages.success(request, f"The chat is now ticket {ticket.number}.")
    return redirect("tickets:detail", number=ticket.number)


@login_required
@require_POST
def add_to_ticket(request, pk: int):
    """The transcript joins one of the requester's open tickets as a public reply."""
    _require_agent(request.user)
    chat = session_or_404(request.user, pk)
    number = request.POST.get("ticket", "").strip().upper()
    ticket = Ticket.objects.restrict(request.user, "change").filter(number=number).first() if number else None
    if ticket is None:
        messages.error(request, "Pick one of the requester's tickets.")
        return redirect("chat:session", pk=chat.pk)
    try:
        services.chat_add_to_ticket(actor=request.user, session=chat, ticket=ticket)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("chat:session", pk=chat.pk)
    messages.success(request, f"The chat transcript was added to {ticket.number}.")
    return redirect("tickets:detail", number=ticket.number)
