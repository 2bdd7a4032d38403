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

__all__ = [
    "Attachment",
    "Category",
    "NumberSequence",
    "PriorityRule",
    "Problem",
    "Survey",
    "Ticket",
    "TicketRelation",
    "TimelineEvent",
]
