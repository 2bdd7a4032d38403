"""The periodic scheduler: enqueues each due Schedule exactly once, whatever number of
``opsdesk worker`` processes run it side by side.

Each process reads the due schedules and claims one by moving its ``next_run_at`` forward
with a compare-and-set UPDATE; only the process whose UPDATE matched enqueues the task, in
the same transaction, so a claimed run is never lost and never doubled.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter
from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from opsdesk.core.models import Schedule

logger = logging.getLogger("opsdesk.scheduler")


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    task: str
    cron: str


_registered: dict[str, ScheduleSpec] = {}


def register_schedule(*, name: str, task: str, cron: str) -> None:
    """Declare a built-in schedule (from an app's ``tasks.py``); synced on worker start."""
    if not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression for schedule {name!r}: {cron!r}")
    _registered[name] = ScheduleSpec(name=name, task=task, cron=cron)


def next_run(cron: str, after: datetime) -> datetime:
    return croniter(cron, after.astimezone(UTC)).get_next(datetime)


def schedules_sync(*, now: datetime | None = None) -> int:
    """Create the registered schedules that are missing; keep admins' edits to existing ones."""
    now = now or timezone.now()
    created = 0
    for spec in _registered.values():
        _, was_created = Schedule.objects.get_or_create(
            name=spec.name,
            defaults={"task": spec.task, "cron": spec.cron, "next_run_at": next_run(spec.cron, now)},
        )
        created += was_created
    return created


def run_due_schedules(*, now: datetime | None = None) -> list[str]:
    """Enqueue every schedule due at ``now`` that this process wins; returns their names."""
    now = now or timezone.now()
    due = Schedule.objects.filter(enabled=True, next_run_at__lte=now).values_list("pk", "next_run_at")
    return [name for pk, slot in list(due) if (name := schedule_fire(pk=pk, slot=slot, now=now))]


def schedule_fire(*, pk: int, slot: datetime, now: datetime) -> str | None:
    """Claim the run of schedule ``pk`` that was due at ``slot`` and enqueue its task.

    Returns the schedule's name, or None when another process claimed that run first.
    """
    with transaction.atomic():
        schedule = Schedule.objects.filter(pk=pk).first()
        if schedule is None:
            return None
        won = Schedule.objects.filter(pk=pk, next_run_at=slot).update(
            next_run_at=next_run(schedule.cron, now), last_run_at=now
        )
        if not won:
            return None
        try:
            task = import_string(schedule.task)
        except ImportError:
            logger.error("schedule %s names an unknown task %s", schedule.name, schedule.task)
            return None
        task.enqueue(**schedule.kwargs)
    logger.info("enqueued scheduled task", extra={"schedule": schedule.name, "task": schedule.task})
    return schedule.name


def scheduler_loop(stop: threading.Event, *, interval: float) -> None:
    schedules_sync()
    while not stop.is_set():
        close_old_connections()
        try:
            run_due_schedules()
        except Exception:
            # A failing tick (database restarting, say) must not kill the worker: log and retry.
            logger.exception("scheduler tick failed")
        stop.wait(interval)
    close_old_connections()
