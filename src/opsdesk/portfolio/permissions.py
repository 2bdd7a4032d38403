"""Who may see and change the portfolio.

Staff read all of it. Requesters see catalogue-stage services (and their offerings) and
published support policies, nothing else. Service owners maintain their own services;
managers (and admins, via core) maintain everything.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import User
from opsdesk.accounts.permissions import manager_writes
from opsdesk.core.querysets import register_rule
from opsdesk.portfolio import models as m
from opsdesk.portfolio.choices import PolicyStatus, Stage

READ = "view"


def _may_own_services(user: User) -> bool:
    return user.role == Role.SERVICE_OWNER


def services_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return True if user.is_agent else Q(stage=Stage.CATALOGUE)
    if action == "add":
        return _may_own_services(user)
    if action == "change":
        return Q(owner=user) if user.is_agent else False
    return False


def owned_service_part(prefix: str = "service__", *, public: bool = False):
    """Rule for records that belong to a service: staff read them (requesters too, for the
    public parts of catalogue services); the service's owner maintains them."""

    def rule(user: User, action: str) -> Q | bool:
        if action == READ:
            if user.is_agent:
                return True
            return Q(**{f"{prefix}stage": Stage.CATALOGUE}) if public else False
        if user.is_agent:
            return Q(**{f"{prefix}owner": user})
        return False

    return rule


def staff_read(user: User, action: str) -> Q | bool:
    return action == READ and user.is_agent


def objectives_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    if action == "add":
        return _may_own_services(user)
    return Q(owner=user) if user.is_agent else False


def kpis_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    return Q(objective__owner=user) if user.is_agent else False


def contracts_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    if action == "change" and user.is_agent:
        return Q(owner=user)
    return False


def contract_documents_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return user.is_agent
    if action in ("add", "delete") and user.is_agent:
        return Q(contract__owner=user)
    return False


def evaluations_rule(prefix: str = ""):
    def rule(user: User, action: str) -> Q | bool:
        if action == READ:
            return user.is_agent
        if action == "add" and not prefix:
            # A service owner evaluates sourcing for their own services only.
            return Q(service__owner=user) if _may_own_services(user) else False
        return Q(**{f"{prefix}service__owner": user}) if user.is_agent else False

    return rule


def policies_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        if user.is_agent:
            return True
        published = m.SupportPolicyVersion.objects.filter(
            status=PolicyStatus.PUBLISHED, effective_from__lte=timezone.localdate()
        ).values("policy_id")
        return Q(pk__in=published)
    return False


def policy_versions_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        if user.is_agent:
            return True
        return Q(status=PolicyStatus.PUBLISHED, effective_from__lte=timezone.localdate())
    return False


def register() -> None:
    register_rule(m.Service, manager_writes(services_rule))
    register_rule(m.Offering, manager_writes(owned_service_part(public=True)))
    for part in (m.ServiceDependency, m.ServiceSupportTier, m.ServiceLocation, m.ServiceObjective):
        register_rule(part, manager_writes(owned_service_part()))
    register_rule(m.ServiceStageChange, manager_writes(owned_service_part()))
    register_rule(m.BusinessObjective, manager_writes(objectives_rule))
    register_rule(m.Kpi, manager_writes(kpis_rule))
    register_rule(m.BusinessCalendar, manager_writes(staff_read))
    register_rule(m.Provider, manager_writes(staff_read))
    register_rule(m.ProviderContact, manager_writes(staff_read))
    register_rule(m.Contract, manager_writes(contracts_rule))
    register_rule(m.ContractDocument, manager_writes(contract_documents_rule))
    register_rule(m.SourcingEvaluation, manager_writes(evaluations_rule()))
    register_rule(m.EvaluationCriterion, manager_writes(evaluations_rule("evaluation__")))
    register_rule(m.EvaluationCandidate, manager_writes(evaluations_rule("evaluation__")))
    register_rule(m.EvaluationScore, manager_writes(evaluations_rule("candidate__evaluation__")))
    register_rule(m.SupportPolicy, manager_writes(policies_rule))
    register_rule(m.SupportPolicyVersion, manager_writes(policy_versions_rule))
