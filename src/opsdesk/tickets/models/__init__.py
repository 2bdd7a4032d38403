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
from opsdesk.tickets.models.views import CannedResponse, SavedView

__all__ = [
    "Attachment",
    "CannedResponse",
    "Category",
    "EscalationMatrixStep",
    "EscalationRecord",
    "EscalationRule",
    "NumberSequence",
    "PriorityRule",
    "Problem",
    "RoutingRule",
    "SavedView",
    "Survey",
    "TeamQueueSettings",
    "Ticket",
    "TicketRelation",
    "TimelineEvent",
]
