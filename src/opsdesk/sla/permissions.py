"""Who may see and keep service levels.

Policies and targets: every staff member reads them (agents need to know what they work to);
managers and admins keep them. Timers and alerts are written by the clock only; staff read
them all, requesters those of the tickets they may see (their SLA, never the OLAs and UCs
behind it)."""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import User
from opsdesk.core.querysets import register_rule
from opsdesk.sla.choices import PolicyKind
from opsdesk.sla.models import SlaAlert, SlaPolicy, SlaTarget, SlaTimer
from opsdesk.tickets.permissions import requester_tickets

READ = "view"


def policies_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    return user.is_active and user.is_manager and not user.is_read_only


def timers_rule(user: User, action: str) -> Q | bool:
    if action != READ:
        return False
    if user.is_agent:
        return True
    return requester_tickets(user, "ticket__") & Q(kind=PolicyKind.SLA)


def alerts_rule(user: User, action: str) -> Q | bool:
    return action == READ and user.is_agent


def register() -> None:
    register_rule(SlaPolicy, policies_rule)
    register_rule(SlaTarget, policies_rule)
    register_rule(SlaTimer, timers_rule)
    register_rule(SlaAlert, alerts_rule)
