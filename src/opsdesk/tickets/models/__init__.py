"""The service desk's records, one module per area."""

from opsdesk.tickets.models.conversation import Attachment, Survey, TicketRelation
from opsdesk.tickets.models.desk import (
    Category,
    NumberSequence,
    PriorityRule,
    Problem,
    Ticket,
    TimelineEvent,
)
from opsdesk.tickets.models.rules import (
    EscalationMatrixStep,
    EscalationRecord,
    EscalationRule,
    RoutingRule,
    TeamQueueSettings,
)

__all__ = [
    "Attachment",
    "Category",
    "EscalationMatrixStep",
    "EscalationRecord",
    "EscalationRule",
    "NumberSequence",
    "PriorityRule",
    "Problem",
    "RoutingRule",
    "Survey",
    "TeamQueueSettings",
    "Ticket",
    "TicketRelation",
    "TimelineEvent",
]
