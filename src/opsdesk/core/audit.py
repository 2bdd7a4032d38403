"""Who is acting, and through which channel: the context every audit entry is stamped with.

The web middleware, the API's authentication, the e-mail intake, the CLI and the job runner
each open an ``acting(...)`` block; services that receive an ``actor`` open one too, so an
entry written deep inside a service still knows who and how.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None
    channel: str = "system"
    request_id: str = ""
    ip: str | None = None


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "opsdesk_audit_context",
    default=AuditContext(),  # noqa: B039  (a frozen dataclass: immutable)
)


def current_context() -> AuditContext:
    return _current.get()


@contextmanager
def acting(*, actor: Any = None, channel: str | None = None, ip: str | None = None) -> Iterator[AuditContext]:
    """Stamp every change made inside the block with this actor (and channel, if given)."""
    base = _current.get()
    context = replace(
        base,
        actor=actor if actor is not None else base.actor,
        channel=channel or base.channel,
        ip=ip if ip is not None else base.ip,
        request_id=base.request_id or uuid.uuid4().hex,
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
