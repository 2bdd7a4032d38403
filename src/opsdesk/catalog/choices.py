from django.db import models


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    DATE = "date", "Date"
    USER = "user", "Person"
    SERVICE = "service", "Service"
    ATTACHMENT = "attachment", "Attachment"


class ApproverKind(models.TextChoices):
    MANAGER = "manager", "The requester's manager"
    SERVICE_OWNER = "service_owner", "The service owner"
    GROUP = "group", "A named approval group"
    PERSON = "person", "A named person"


class RequestState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    IN_FULFILMENT = "in_fulfilment", "In fulfilment"
    FULFILLED = "fulfilled", "Fulfilled"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_REQUEST_STATES = (RequestState.AWAITING_APPROVAL, RequestState.IN_FULFILMENT)


class ApprovalState(models.TextChoices):
    WAITING = "waiting", "Waiting for an earlier step"
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "No longer needed"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class TaskState(models.TextChoices):
    WAITING = "waiting", "Waiting for an earlier task"
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_TASK_STATES = (TaskState.OPEN, TaskState.IN_PROGRESS)
FINISHED_TASK_STATES = (TaskState.DONE, TaskState.CANCELLED)
