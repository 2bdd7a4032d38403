"""Listening to the service desk: each timeline event that may tell someone something is
announced by a background job once its transaction commits, so a rolled-back change tells
nobody and the writing request pays no query for it."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from opsdesk.notifications.selectors import CANDIDATE_KINDS
from opsdesk.tickets.models import TimelineEvent


def announce_event(sender, *, event: TimelineEvent, **kwargs) -> None:
    if event.kind not in CANDIDATE_KINDS:
        return
    from opsdesk.notifications.tasks import notify_event

    transaction.on_commit(partial(notify_event.enqueue, event_id=event.pk))


def connect() -> None:
    from opsdesk.tickets.signals import timeline_event_recorded

    timeline_event_recorded.connect(
        announce_event, sender=TimelineEvent, dispatch_uid="notifications.announce"
    )
