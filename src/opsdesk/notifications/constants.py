"""Limits and timings of outgoing notifications."""

# Attempts per message before it is marked failed; the waits between them grow fivefold:
# 1, 5, 25, 125 and 625 minutes (about 13 hours in all).
MAX_ATTEMPTS = 6
FIRST_RETRY_MINUTES = 1
BACKOFF_FACTOR = 5

# What an admin may write into a template.
MAX_SUBJECT_TEMPLATE = 500
MAX_BODY_TEMPLATE = 50_000
# What a rendered subject may become (mail clients cut long subjects anyway).
MAX_SUBJECT = 250
MAX_ERROR = 2_000
# A reply quoted in a notification is cut here; the ticket holds all of it.
MAX_QUOTED_REPLY = 20_000
# Messages one run of the retry sweep sends, so one run stays short.
RETRY_BATCH = 200
