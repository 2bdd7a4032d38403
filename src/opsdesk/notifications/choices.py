from django.db import models


class NotificationEvent(models.TextChoices):
    """What the desk tells people about, each with its own template and preference."""

    CREATED = "created", "Ticket created"
    REPLY = "reply", "New reply"
    ASSIGNED = "assigned", "Ticket assigned"
    STATUS = "status", "Status changed"
    RESOLVED = "resolved", "Ticket resolved"
    SLA_WARNING = "sla_warning", "Service level warning"


class Audience(models.TextChoices):
    REQUESTER = "requester", "Requesters"
    AGENT = "agent", "Support staff"


# Who gets what unless they chose otherwise: requesters hear about their tickets' progress,
# agents about the work given to them and the replies on it.
DEFAULT_PREFERENCES = {
    Audience.REQUESTER: {
        NotificationEvent.CREATED: True,
        NotificationEvent.REPLY: True,
        NotificationEvent.ASSIGNED: False,
        NotificationEvent.STATUS: True,
        NotificationEvent.RESOLVED: True,
        NotificationEvent.SLA_WARNING: False,
    },
    Audience.AGENT: {
        NotificationEvent.CREATED: False,
        NotificationEvent.REPLY: True,
        NotificationEvent.ASSIGNED: True,
        NotificationEvent.STATUS: False,
        NotificationEvent.RESOLVED: False,
        NotificationEvent.SLA_WARNING: True,
    },
}

# The events a requester may hear of at all; the others are about the desk's internal work.
REQUESTER_EVENTS = (
    NotificationEvent.CREATED,
    NotificationEvent.REPLY,
    NotificationEvent.STATUS,
    NotificationEvent.RESOLVED,
)


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
