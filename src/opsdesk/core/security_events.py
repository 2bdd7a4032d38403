"""Writes the security log: Django's and django-axes' authentication signals land here,
and the web and API layers call ``security_event_record`` when they refuse a request."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.models import SecurityEvent


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def security_event_record(
    *, kind: str, request: Any = None, user: Any = None, username: str = "", **detail: Any
) -> SecurityEvent:
    """Append one event to the security log."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
        path=(request.path if request else "")[:300],
        detail=detail,
    )


@receiver(user_logged_in, dispatch_uid="opsdesk-security-login")
def _on_login(sender, request, user, **kwargs):
    security_event_record(kind=SecurityEventKind.LOGIN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="opsdesk-security-logout")
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        security_event_record(kind=SecurityEventKind.LOGOUT, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="opsdesk-security-login-failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    security_event_record(
        kind=SecurityEventKind.LOGIN_FAILED, request=request, username=str(credentials.get("username", ""))
    )


@receiver(user_locked_out, dispatch_uid="opsdesk-security-lockout")
def _on_lockout(sender, request, username, ip_address, **kwargs):
    security_event_record(kind=SecurityEventKind.LOCKOUT, request=request, username=username or "")
