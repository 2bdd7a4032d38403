"""Numbers the learning app works with; each can be overridden in settings where noted."""

# A certification whose expiry is this close (days) is "expiring soon" and reminded once.
EXPIRY_WARNING_DAYS = 30
# The skills matrix flags a required skill with fewer qualified agents on shift than this.
DEFAULT_MIN_ON_SHIFT = 2
# The matrix counts a team as needing a skill when it received tickets of a category that
# requires it within this many days.
DEMAND_WINDOW_DAYS = 90
MAX_TRAINING_HOURS = 10_000
