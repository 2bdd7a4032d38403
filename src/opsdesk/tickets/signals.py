"""What the service desk tells other apps, without knowing them.

``ticket_changed`` is sent at the end of every write that can move a ticket's clocks (its
creation, a change of fields, an assignment, a status change, a reply, an escalation, a
merge), inside the writing transaction and after the timeline has recorded the change, so a
receiver that fails rolls the write back instead of leaving derived data behind.
"""

from django.dispatch import Signal

# Sent with ``ticket`` (the saved Ticket).
ticket_changed = Signal()

# Sent with ``event`` (a TimelineEvent just written) from ``record_event``, inside the writing
# transaction: a receiver that tells people (notifications) enqueues with
# ``transaction.on_commit`` so a rolled-back change tells nobody.
timeline_event_recorded = Signal()


def announce_change(ticket) -> None:
    ticket_changed.send(sender=type(ticket), ticket=ticket)
