"""Limits of the live chat."""

# The longest message a person can send (characters); longer ones are refused, never cut.
MAX_MESSAGE_LENGTH = 4000
# Messages one person may send per minute across all their chats; more are refused politely.
MESSAGES_PER_MINUTE = 30
RATE_WINDOW_SECONDS = 60
# Typing notices a connection forwards at most this often (seconds); the rest are dropped.
TYPING_INTERVAL_SECONDS = 1.0
# The messages a (re)connecting participant receives at once.
HISTORY_LIMIT = 500
# A waiting chat nobody accepted is marked abandoned after this long (minutes).
WAITING_TIMEOUT_MINUTES = 30
# An active chat in which nobody wrote for this long is ended (minutes).
IDLE_TIMEOUT_MINUTES = 120
# The longest ticket title taken from the first message.
TITLE_LENGTH = 80
