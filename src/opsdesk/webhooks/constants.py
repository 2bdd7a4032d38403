"""Limits of the inbound webhook endpoint. Senders read them in docs/webhooks.md."""

# The largest request body accepted (bytes); larger ones are refused with 413 before reading.
MAX_BODY_BYTES = 1024 * 1024
# How far a signed timestamp may lie from our clock, either way (seconds): replays older than
# this are refused even with a valid signature.
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
# The delivery id header's longest accepted value.
MAX_DELIVERY_ID_LENGTH = 100
# How long the old secret keeps working after a rotation, when the admin asks for a grace period.
ROTATION_GRACE_HOURS = 24
# Bytes of a random secret (shown to the admin as URL-safe base64, 43 characters).
SECRET_BYTES = 32
# Headers the sender sets.
SIGNATURE_HEADER = "X-OpsDesk-Signature"
TIMESTAMP_HEADER = "X-OpsDesk-Timestamp"
DELIVERY_HEADER = "X-OpsDesk-Delivery"
# Longest mapped values kept (characters); longer ones are cut with an ellipsis.
MAX_EXTERNAL_ID_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 20_000
# Mapping paths: at most this long and this deep.
MAX_PATH_LENGTH = 200
MAX_PATH_SEGMENTS = 20
# Entries of one value map (severity → impact, …).
MAX_VALUE_MAP_ENTRIES = 50
# Deliveries are pruned after this many days (the tickets they made stay, of course).
DELIVERY_RETENTION_DAYS = 90
