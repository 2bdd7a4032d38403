"""Who may see and change the catalogue, orders, approvals and fulfilment tasks.

Everyone browses the items offered to their organisation and role; managers maintain the
catalogue. A request is seen by whoever may see its ticket, and by its approvers; an approval
is its approver's (or their delegate's) to decide; tasks are worked by support staff, and the
requester follows their progress. The services check each write again with these rules.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import User
from opsdesk.accounts.permissions import manager_writes
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalGroup,
    ApprovalStep,
    CatalogCategory,
    CatalogItem,
    CatalogRequest,
    RequestTask,
    TaskTemplate,
)
from opsdesk.core.querysets import register_rule
from opsdesk.tickets.permissions import requester_tickets

READ = "view"


def offered_to(user: User) -> Q:
    """Active items open to the user's organisation and role (none listed: open to all)."""
    organizations = Q(organizations=None)
    if user.organization_id:
        organizations |= Q(organizations=user.organization_id)
    # The M2M condition goes through an id subquery so that no item repeats.
    open_to_organization = CatalogItem.objects.filter(organizations).values("pk")
    roles = Q(roles=[]) | Q(roles__icontains=f'"{user.role}"')
    return Q(is_active=True) & roles & Q(pk__in=open_to_organization)


def everyone_reads(user: User, action: str) -> Q | bool:
    return action == READ


def items_rule(user: User, action: str) -> Q | bool:
    if action != READ:
        return False
    if user.is_agent:
        return True
    return offered_to(user)


def staff_read(user: User, action: str) -> Q | bool:
    return action == READ and user.is_agent


def requests_rule(user: User, action: str) -> Q | bool:
    if user.is_agent:
        return action != "delete"
    if action != READ:
        return False
    approving = Approval.objects.filter(Q(approver=user) | Q(delegated_from=user)).values("request_id")
    return requester_tickets(user, "ticket__") | Q(ordered_by=user) | Q(pk__in=approving)


def approvals_rule(user: User, action: str) -> Q | bool:
    if action == "delete":
        return False
    mine = Q(approver=user) | Q(delegated_from=user)
    if action == READ:
        if user.is_agent:
            return True
        # Requesters see where their request's approval stands.
        return mine | requester_tickets(user, "request__ticket__") | Q(request__ordered_by=user)
    return Q(approver=user)


def delegations_rule(user: User, action: str) -> Q | bool:
    # People arrange their own stand-in; managers arrange anyone's.
    if user.is_manager:
        return True
    if action == READ:
        return Q(approver=user) | Q(delegate=user)
    return Q(approver=user)


def tasks_rule(user: User, action: str) -> Q | bool:
    if user.is_agent:
        return action != "delete"
    if action != READ:
        return False
    return requester_tickets(user, "request__ticket__") | Q(request__ordered_by=user)


def register() -> None:
    register_rule(CatalogCategory, manager_writes(everyone_reads))
    register_rule(CatalogItem, manager_writes(items_rule))
    register_rule(ApprovalGroup, manager_writes(staff_read))
    register_rule(ApprovalStep, manager_writes(staff_read))
    register_rule(TaskTemplate, manager_writes(staff_read))
    register_rule(CatalogRequest, requests_rule)
    register_rule(Approval, approvals_rule)
    register_rule(ApprovalDelegation, delegations_rule)
    register_rule(RequestTask, tasks_rule)
