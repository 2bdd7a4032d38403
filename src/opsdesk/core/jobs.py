"""Background tasks that leave a Job row for every run.

``@job_task`` is Django's ``@task`` (django-tasks backport) plus bookkeeping: the run's
status, start, end, captured log lines and error land in ``Job``, visible on the Jobs
screen. Tasks take ids, not objects, and call services.
"""

from __future__ import annotations

import functools
import io
import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django_tasks import TaskContext, task

from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel, JobStatus
from opsdesk.core.models import Job

MAX_LOG_CHARS = 100_000


class _JobLogHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.buffer = io.StringIO()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if self.buffer.tell() < MAX_LOG_CHARS:
            self.buffer.write(self.format(record) + "\n")


def job_task(function: Callable | None = None, *, priority: int = 0, queue_name: str = "default"):
    """Declare a background task whose every run is recorded as a Job."""

    def decorate(func: Callable) -> Any:
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def run(context: TaskContext, *args: Any, **kwargs: Any) -> Any:
            job = Job.objects.create(
                name=name,
                task_result_id=str(context.task_result.id),
                attempt=context.attempt,
                arguments={"args": list(args), "kwargs": kwargs},
                status=JobStatus.RUNNING,
                started_at=timezone.now(),
            )
            handler = _JobLogHandler()
            logger = logging.getLogger("opsdesk")
            logger.addHandler(handler)
            try:
                with acting(channel=Channel.SYSTEM):
                    result = func(*args, **kwargs)
            except Exception:
                job.status = JobStatus.FAILED
                job.error = traceback.format_exc()
                raise
            else:
                job.status = JobStatus.SUCCEEDED
                return result
            finally:
                logger.removeHandler(handler)
                job.log = handler.buffer.getvalue()
                job.finished_at = timezone.now()
                job.save(update_fields=["status", "error", "log", "finished_at"])

        # Keep the name and docstring, but let the task system see the real signature
        # (context first), not the wrapped function's.
        del run.__wrapped__
        return task(priority=priority, queue_name=queue_name, takes_context=True)(run)

    return decorate(function) if function is not None else decorate
