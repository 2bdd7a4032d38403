"""Who may see and keep inbound webhooks.

Sources hold secrets and decide what outside systems may do to tickets, so only
administrators keep them; managers and auditors read them and their deliveries (the core
grants every read to roles that read everything). Nobody else sees either: deny by default.
Deliveries are written by the endpoint alone; an administrator may replay a failed one.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import User
from opsdesk.core.querysets import register_rule
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource


def administrators_only(user: User, action: str) -> Q | bool:
    # Administrators (and read-everything roles, for "view") are let through by the core
    # before any rule is asked; everyone else gets nothing.
    return False


def register() -> None:
    register_rule(WebhookSource, administrators_only)
    register_rule(WebhookDelivery, administrators_only)
