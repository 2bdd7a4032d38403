"""Who may see and change notification records.

Everyone keeps their own preferences. Templates and the outbox are the desk's configuration
and delivery log: administrators change them (and retry messages), managers and auditors read
them (core grants that), and managers retry failed messages; nobody else sees them.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.core.querysets import register_rule
from opsdesk.notifications.models import NotificationPreference, NotificationTemplate, OutboundMessage


def preferences_rule(user, action: str) -> Q | bool:
    return Q(user=user) if action in ("view", "add", "change", "delete") else False


def administrators_only(user, action: str) -> Q | bool:
    # Administrators and (read-only) managers and auditors are answered before any rule runs.
    return False


def outbox_rule(user, action: str) -> Q | bool:
    # Managers read the outbox (core) and may queue a message for another attempt.
    return action == "change" and user.is_manager


def register() -> None:
    register_rule(NotificationPreference, preferences_rule)
    register_rule(NotificationTemplate, administrators_only)
    register_rule(OutboundMessage, outbox_rule)
