# Limits on what an item's definition may hold: a catalogue form is a short questionnaire.
MAX_FORM_FIELDS = 60
MAX_CHOICES = 200
MAX_KEY_LENGTH = 50
MAX_TEXT_ANSWER = 10_000
MAX_APPROVAL_STEPS = 10
MAX_TASKS = 30
# How long a signed approval link in an e-mail stays valid.
APPROVAL_LINK_MAX_AGE_DAYS = 14
# Defaults for an approval step: remind the approver, then escalate to their manager.
DEFAULT_REMIND_AFTER_HOURS = 24
DEFAULT_ESCALATE_AFTER_HOURS = 72
# The approval sweep's batch per run (every five minutes).
SWEEP_BATCH = 500
# Item pages live at /catalog/<slug>/: these first segments belong to the catalogue's own pages.
RESERVED_ITEM_SLUGS = ("manage", "tasks", "reports", "requests", "approvals", "approve", "delegations")
