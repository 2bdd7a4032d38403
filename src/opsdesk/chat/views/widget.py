"""The requester's chat widget: a small page without the site's chrome, shown in a panel of
the portal or in a frame on another site. Start a chat, talk, end it, or leave a ticket."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from opsdesk.accounts.models import Team
from opsdesk.chat import selectors, services
from opsdesk.chat.constants import MAX_MESSAGE_LENGTH
from opsdesk.chat.views.common import frameable, origin_of, session_or_404, websocket_path, widget_url
from opsdesk.core.exceptions import NotAllowed, ServiceError


def _teams() -> list[Team]:
    teams = list(selectors.chat_teams())
    for team in teams:
        team.available_now = selectors.team_available(team=team)
    return teams


def _render(request, *, status: int = 200, **context):
    user = request.user
    context.setdefault("origin", origin_of(request))
    context["max_length"] = MAX_MESSAGE_LENGTH
    if user.is_authenticated and not user.is_agent:
        session = selectors.session_open_for_requester(user=user)
        context["session"] = session
        if session is not None:
            context["ws_path"] = websocket_path(session)
        else:
            context.setdefault("teams", _teams())
            context["last_session"] = selectors.session_latest_for_requester(user=user)
    return render(request, "chat/widget_page.html", context, status=status)


@require_GET
@frameable
def widget(request):
    """The chat as the requester sees it: the start form, or the chat going on."""
    return _render(request)


def _team_from(request) -> Team | None:
    try:
        return selectors.chat_teams().get(pk=int(request.POST.get("team", "")))
    except (ValueError, Team.DoesNotExist):
        return None


def _requester_only(request) -> None:
    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in to chat with us.")
    if request.user.is_agent:
        raise PermissionDenied("The chat widget is for requesters; agents answer chats from the chat queue.")


@require_POST
@frameable
def start(request):
    """Open a chat with the chosen team; when nobody is there, offer a ticket at once."""
    _requester_only(request)
    body = request.POST.get("body", "")
    team = _team_from(request)
    if team is None:
        return _render(request, status=400, error="Pick who you want to chat with.", body=body)
    try:
        services.chat_start(actor=request.user, team=team, body=body, origin=origin_of(request))
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        if exc.code == "nobody_available":
            return _render(request, nobody_available=team, error=exc.message, body=body, chosen=team.pk)
        return _render(request, status=400, error=exc.message, body=body, chosen=team.pk)
    return redirect(widget_url(request))


@require_POST
@frameable
def leave_ticket(request):
    """Nobody can chat now: what the requester typed becomes a ticket."""
    _requester_only(request)
    body = request.POST.get("body", "")
    team = _team_from(request)
    if team is None:
        return _render(request, status=400, error="Pick who your message is for.", body=body)
    try:
        ticket = services.chat_leave_ticket(
            actor=request.user, team=team, body=body, origin=origin_of(request)
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        return _render(
            request, status=400, nobody_available=team, error=exc.message, body=body, chosen=team.pk
        )
    messages.success(request, f"Thank you — we have your ticket {ticket.number} and will get back to you.")
    return redirect(widget_url(request))


@require_POST
@frameable
def requester_convert(request, pk: int):
    """Waiting too long: the requester turns their waiting chat into a ticket."""
    _requester_only(request)
    session = session_or_404(request.user, pk)
    try:
        ticket = services.chat_convert(actor=request.user, session=session)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Thank you — we have your ticket {ticket.number} and will get back to you."
        )
    return redirect(widget_url(request))
