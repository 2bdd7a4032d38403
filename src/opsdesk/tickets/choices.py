from django.db import models


class TicketType(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Service request"


NUMBER_PREFIX = {TicketType.INCIDENT: "INC", TicketType.REQUEST: "REQ", "problem": "PRB"}
NUMBER_START = 1001


class Status(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.PENDING)


class PendingReason(models.TextChoices):
    REQUESTER = "requester", "Waiting on the requester"
    VENDOR = "vendor", "Waiting on a vendor"
    CHANGE = "change", "Waiting on a change"


class Level(models.IntegerChoices):
    """Impact and urgency: 1 high, 2 medium, 3 low."""

    HIGH = 1, "1 — high"
    MEDIUM = 2, "2 — medium"
    LOW = 3, "3 — low"


class Priority(models.IntegerChoices):
    CRITICAL = 1, "P1 — critical"
    HIGH = 2, "P2 — high"
    MODERATE = 3, "P3 — moderate"
    LOW = 4, "P4 — low"
    PLANNING = 5, "P5 — planning"


# The classic ITIL 3×3 matrix: (impact, urgency) → priority. Editable in the database.
DEFAULT_PRIORITY_MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 5,
}


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat"
    PHONE = "phone", "Phone"
    API = "api", "API"
    MONITORING = "monitoring", "Monitoring"


class ResolutionCode(models.TextChoices):
    SOLVED = "solved", "Solved"
    WORKAROUND = "workaround", "Solved with a workaround"
    NOT_REPRODUCIBLE = "not_reproducible", "Could not reproduce"
    DUPLICATE = "duplicate", "Duplicate"
    FULFILLED = "fulfilled", "Request fulfilled"
    REJECTED = "rejected", "Request rejected"
    NO_RESPONSE = "no_response", "No response from the requester"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    PUBLIC_REPLY = "public_reply", "Reply"
    INTERNAL_NOTE = "internal_note", "Internal note"
    STATUS = "status", "Status changed"
    ASSIGNMENT = "assignment", "Assigned"
    FIELDS = "fields", "Fields changed"
    WORKLOG = "worklog", "Time logged"
    ROUTING = "routing", "Routed"
    ESCALATION = "escalation", "Escalated"
    LINK = "link", "Linked"
    MERGE = "merge", "Merged"
    ATTACHMENT = "attachment", "Attachment"
    SURVEY = "survey", "Rated"
    SLA = "sla", "Service level"
    APPROVAL = "approval", "Approval"
    TASK = "task", "Fulfilment task"


# Timeline entries a requester sees on their ticket; everything else is for agents only.
# Requesters follow their request's approvals and fulfilment tasks on its timeline.
PUBLIC_EVENTS = (
    EventKind.CREATED,
    EventKind.PUBLIC_REPLY,
    EventKind.STATUS,
    EventKind.SURVEY,
    EventKind.APPROVAL,
    EventKind.TASK,
)


class ProblemStatus(models.TextChoices):
    NEW = "new", "New"
    INVESTIGATING = "investigating", "Investigating"
    KNOWN_ERROR = "known_error", "Known error"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class AssignmentStrategy(models.TextChoices):
    MANUAL = "manual", "Manual (the team's queue)"
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least loaded"
    SKILLS = "skills", "Skills-based"


# Weight of one open ticket in an agent's load, by priority: a P1 weighs five P5s.
PRIORITY_WEIGHT = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}

# Age buckets of the workload view: (label, upper bound in hours; None = no bound).
AGE_BUCKETS = (("under_4h", 4), ("4h_to_1d", 24), ("1d_to_3d", 72), ("over_3d", None))


class EscalationKind(models.TextChoices):
    FUNCTIONAL = "functional", "Functional (to another team or tier)"
    HIERARCHICAL = "hierarchical", "Hierarchical (notify the lead, then management)"


class EscalationTrigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    RULE = "rule", "Rule"


# A rating at or below this flags the ticket for the desk's review (and may reopen it).
LOW_RATING = 2
