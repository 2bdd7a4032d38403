"""What the chat pages share: fetching a chat as the reader may see it, and the widget's
frame policy."""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt

from opsdesk.chat import selectors
from opsdesk.chat.models import ChatSession


def session_or_404(user: Any, pk: int, action: str = "view") -> ChatSession:
    try:
        return selectors.session_get_for(user=user, pk=pk, action=action)
    except ChatSession.DoesNotExist as exc:
        raise Http404("No chat here.") from exc


def frameable(view):
    """Let this site and the sites in OPSDESK_CHAT_ALLOWED_ORIGINS show the page in a frame.

    django-csp's per-view replacement (``response._csp_replace``, what ``csp_replace`` sets),
    built at request time so the running settings apply; X-Frame-Options gives way to it.
    """

    @xframe_options_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._csp_replace = {"frame-ancestors": ["'self'", *settings.CHAT_ALLOWED_ORIGINS]}
        return response

    return wrapped


def websocket_path(session: ChatSession) -> str:
    return f"/ws/chat/{session.pk}/"


PORTAL_ORIGIN = "portal"


def origin_of(request) -> str:
    """Where the widget is shown, as the embedding script says: ``scheme://host[:port]`` or
    "portal". Informational (kept on the chat); the frame policy decides who may embed."""
    value = (request.POST.get("origin") or request.GET.get("origin") or "").strip()
    try:
        parsed = urlparse(value)
        hostname = parsed.hostname
    except ValueError:
        return PORTAL_ORIGIN
    if parsed.scheme in ("http", "https") and hostname and parsed.netloc.isprintable():
        return f"{parsed.scheme}://{parsed.netloc}"[:200]
    return PORTAL_ORIGIN


def widget_url(request) -> str:
    """The widget's address, keeping the embedding origin across its forms."""
    origin = origin_of(request)
    url = reverse("chat:widget")
    return url if origin == PORTAL_ORIGIN else f"{url}?{urlencode({'origin': origin})}"
