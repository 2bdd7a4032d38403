from django.db import models


class DeliveryStatus(models.TextChoices):
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class DeliveryAction(models.TextChoices):
    CREATED = "created", "Ticket created"
    UPDATED = "updated", "Ticket updated"
    RESOLVED = "resolved", "Ticket resolved"
    REOPENED = "reopened", "Ticket reopened"
    IGNORED = "ignored", "Nothing to do"


class UpdateVisibility(models.TextChoices):
    INTERNAL = "internal", "Internal note (agents only)"
    PUBLIC = "public", "Public reply (the requester sees it)"


class SourceChannel(models.TextChoices):
    """The ticket channels a webhook may raise tickets on (a subset of the tickets' channels)."""

    MONITORING = "monitoring", "Monitoring"
    API = "api", "API"


# What a mapped ``status`` value means once the value map has been applied.
STATUS_RESOLVED = "resolved"
STATUS_OPEN = "open"
