"""Who may see and change tickets and problems.

Agents work every ticket. Requesters see the tickets they raised or watch, and their
organisation's where the organisation allows it; they add tickets for themselves and act on
their own through the services (reply, cancel, reopen, rate). Problems are for agents.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import TeamMembership, User
from opsdesk.accounts.permissions import manager_writes
from opsdesk.core.querysets import register_rule
from opsdesk.tickets.choices import PUBLIC_EVENTS
from opsdesk.tickets.models import (
    Attachment,
    CannedResponse,
    Category,
    EscalationMatrixStep,
    EscalationRecord,
    EscalationRule,
    PriorityRule,
    Problem,
    RoutingRule,
    SavedView,
    TeamQueueSettings,
    Ticket,
    TimelineEvent,
)

READ = "view"


def requester_tickets(user: User, prefix: str = "") -> Q:
    """The tickets a requester may read: raised, watched, or their organisation's where it shares.

    One ``id IN (… UNION ALL …)`` of indexed lookups rather than ``requester = me OR id IN
    (watched) OR organization = mine``: PostgreSQL cannot answer that OR with indexes and read the
    whole tickets table for every requester page and search (issue 7's benchmark)."""
    ids = Ticket.objects.filter(requester_id=user.pk).order_by().values("pk")
    ids = ids.union(
        Ticket.watchers.through.objects.filter(user_id=user.pk).order_by().values("ticket_id"), all=True
    )
    if user.organization_id and user.organization.requesters_see_organization:
        ids = ids.union(
            Ticket.objects.filter(organization_id=user.organization_id).order_by().values("pk"), all=True
        )
    return Q(**{f"{prefix}pk__in" if not prefix else f"{prefix}id__in": ids})


def requester_reader_keys(user: User) -> list[str]:
    """The search's form of ``requester_tickets`` (``core.search.SearchTarget.reader_keys``): the
    keys a requester holds, which ``search_index.ticket_readers`` puts on the tickets they may
    read. A change to either rule is a change to both (tests/tickets/test_search_readers.py)."""
    keys = [f"u{user.pk}"]
    if user.organization_id and user.organization.requesters_see_organization:
        keys.append(f"o{user.organization_id}")
    return keys


def tickets_rule(user: User, action: str) -> Q | bool:
    if user.is_agent:
        return action != "delete"
    if action == READ:
        return requester_tickets(user)
    if action == "add":
        return Q(requester=user)
    if action == "change":
        return Q(requester=user)
    return False


def events_rule(user: User, action: str) -> Q | bool:
    if action != READ:
        return False
    if user.is_agent:
        return True
    # Requesters see the public part of their tickets' timelines, never internal notes.
    return requester_tickets(user, "ticket__") & Q(kind__in=PUBLIC_EVENTS)


def attachments_rule(user: User, action: str) -> Q | bool:
    # Files are added through the ticket (services.ticket_attach); this rule is who reads them.
    if action != READ:
        return False
    if user.is_agent:
        return True
    return requester_tickets(user, "ticket__") & Q(is_public=True)


def staff_read(user: User, action: str) -> Q | bool:
    return action == READ and user.is_agent


def problems_rule(user: User, action: str) -> Q | bool:
    return user.is_agent and action != "delete"


def categories_rule(user: User, action: str) -> Q | bool:
    # Everyone picks a category when they report something; managers maintain the tree.
    return action == READ


def saved_views_rule(user: User, action: str) -> Q | bool:
    # A saved view is one agent's own way of looking at the queues.
    return Q(owner=user) if user.is_agent else False


def canned_responses_rule(user: User, action: str) -> Q | bool:
    # Personal responses are their owner's; a team's are shared by (and kept by) its members.
    if not user.is_agent:
        return False
    return Q(owner=user) | Q(team_id__in=TeamMembership.objects.filter(user=user).values("team_id"))


def queue_settings_rule(user: User, action: str) -> Q | bool:
    # Agents read every team's strategy; a team lead sets their own team's (managers: any).
    if not user.is_agent:
        return False
    if action == READ:
        return True
    return Q(team__lead=user) if action in ("add", "change") else False


def register() -> None:
    register_rule(Ticket, tickets_rule)
    register_rule(TimelineEvent, events_rule)
    register_rule(Attachment, attachments_rule)
    register_rule(Problem, problems_rule)
    register_rule(Category, manager_writes(categories_rule))
    register_rule(PriorityRule, manager_writes(staff_read))
    register_rule(SavedView, saved_views_rule)
    register_rule(CannedResponse, canned_responses_rule)
    # Automation: managers and admins edit the rules, the matrix and the strategies; agents
    # read them. Escalation records are written by the escalation service only.
    register_rule(RoutingRule, manager_writes(staff_read))
    register_rule(EscalationRule, manager_writes(staff_read))
    register_rule(EscalationMatrixStep, manager_writes(staff_read))
    register_rule(TeamQueueSettings, manager_writes(queue_settings_rule))
    register_rule(EscalationRecord, staff_read)
