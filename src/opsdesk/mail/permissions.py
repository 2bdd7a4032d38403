"""Who may see and keep the e-mail intake.

Mailboxes hold credentials and inbound messages hold whatever strangers sent: administrators
keep both (create, edit, retry); managers read them to follow up; agents and requesters see
neither (agents see the resulting tickets). Raw messages download for administrators only
(checked in the views and the API)."""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import User
from opsdesk.core.querysets import register_rule
from opsdesk.mail.models import InboundMessage, Mailbox

READ = "view"


def may_download_raw(user: User) -> bool:
    return bool(user.is_active and user.is_admin)


def mailboxes_rule(user: User, action: str) -> Q | bool:
    if not user.is_active:
        return False
    if action == READ:
        return user.is_manager
    return user.is_admin and not user.is_read_only


def inbound_rule(user: User, action: str) -> Q | bool:
    if not user.is_active:
        return False
    if action == READ:
        return user.is_manager
    # "change" is a retry; messages are written by the intake only and never deleted by hand.
    return action == "change" and user.is_admin and not user.is_read_only


def register() -> None:
    register_rule(Mailbox, mailboxes_rule)
    register_rule(InboundMessage, inbound_rule)
