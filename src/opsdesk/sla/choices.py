from django.db import models


class PolicyKind(models.TextChoices):
    SLA = "sla", "SLA (to customers)"
    OLA = "ola", "OLA (between internal teams)"
    UC = "uc", "UC (with an external provider)"


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class TimerState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


OPEN_TIMER_STATES = (TimerState.RUNNING, TimerState.PAUSED)


class ReopenBehaviour(models.TextChoices):
    CONTINUE = "continue", "Continue the clock"
    RESTART = "restart", "Restart the clock"


# What a ticket shows in the queues, from the most urgent of its running timers.
class TicketSlaState(models.TextChoices):
    NONE = "", "No SLA"
    ON_TRACK = "on_track", "On track"
    WARNING = "warning", "Warning"
    BREACHED = "breached", "Breached"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"


DEFAULT_THRESHOLDS = [50, 75, 90, 100]
MAX_TARGET_MINUTES = 5 * 365 * 24 * 60  # five years of business minutes: beyond is a typo
