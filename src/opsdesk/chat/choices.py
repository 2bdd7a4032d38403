"""The states of a chat session."""

from django.db import models


class SessionStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for an agent"
    ACTIVE = "active", "In progress"
    ENDED = "ended", "Ended"
    ABANDONED = "abandoned", "Abandoned"
    CONVERTED = "converted", "Became a ticket"


OPEN_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE)
# A transcript can become (or join) a ticket once someone has spoken in it and it is not one already.
CONVERTIBLE_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE, SessionStatus.ENDED)
