"""The service portfolio's records, one module per area."""

from opsdesk.portfolio.models.calendars import BusinessCalendar
from opsdesk.portfolio.models.catalogue import (
    BusinessObjective,
    Kpi,
    Offering,
    Service,
    ServiceDependency,
    ServiceLocation,
    ServiceObjective,
    ServiceStageChange,
    ServiceSupportTier,
)
from opsdesk.portfolio.models.policies import SupportPolicy, SupportPolicyVersion
from opsdesk.portfolio.models.sourcing import (
    Contract,
    ContractDocument,
    EvaluationCandidate,
    EvaluationCriterion,
    EvaluationScore,
    Provider,
    ProviderContact,
    SourcingEvaluation,
)

__all__ = [
    "BusinessCalendar",
    "BusinessObjective",
    "Contract",
    "ContractDocument",
    "EvaluationCandidate",
    "EvaluationCriterion",
    "EvaluationScore",
    "Kpi",
    "Offering",
    "Provider",
    "ProviderContact",
    "Service",
    "ServiceDependency",
    "ServiceLocation",
    "ServiceObjective",
    "ServiceStageChange",
    "ServiceSupportTier",
    "SourcingEvaluation",
    "SupportPolicy",
    "SupportPolicyVersion",
]
