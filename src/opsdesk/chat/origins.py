"""Which pages may open the chat's WebSockets: this site's own, and the sites an admin lists in
OPSDESK_CHAT_ALLOWED_ORIGINS. Anything else (or no Origin at all) is refused before a consumer
runs, so another site cannot talk through a signed-in person's cookie."""

from __future__ import annotations

from urllib.parse import ParseResult, urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urlparse(url)
    port = parsed.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parsed.scheme)
    return parsed.scheme, (parsed.hostname or "").lower(), port


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


class ChatOriginValidator(OriginValidator):
    """Reads the settings on every connection (they are the running configuration)."""

    def __init__(self, application) -> None:
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("ChatOriginValidator guards WebSocket connections only")
        if origin_allowed(_header(scope, b"origin"), host=_header(scope, b"host"), validator=self):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def origin_allowed(origin: str, *, host: str, validator: OriginValidator | None = None) -> bool:
    """Whether a page of ``origin`` may open the chat's sockets on this server (reached as ``host``)."""
    parsed = urlparse(origin) if origin else None
    if parsed is None or not parsed.hostname or parsed.scheme not in ("http", "https"):
        return False
    if _origin(origin) == _origin(settings.SITE_URL) or _same_host(parsed, host):
        return True
    validator = validator or OriginValidator(None, [])
    return any(
        validator.match_allowed_origin(parsed, pattern)
        for pattern in settings.CHAT_ALLOWED_ORIGINS
        if pattern != "*"  # a wildcard would hand every site the signed-in person's chats
    )


def _same_host(parsed_origin: ParseResult, host_header: str) -> bool:
    # The page came from this very server: the Origin names the host the browser connected
    # to, and that host is one we serve (ALLOWED_HOSTS).
    host, port = split_domain_port(host_header)
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    scheme, origin_host, origin_port = _origin(parsed_origin.geturl())
    default = 443 if scheme == "https" else 80
    return origin_host == host.strip("[]") and origin_port == (int(port) if port else default)
