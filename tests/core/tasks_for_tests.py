"""Tasks the tests enqueue and run through the real worker."""

import logging

from opsdesk.core.jobs import job_task

logger = logging.getLogger("opsdesk.tests")


@job_task
def add(a: int, b: int) -> int:
    logger.info("adding %s and %s", a, b)
    return a + b


@job_task
def explode(message: str) -> None:
    logger.info("about to fail")
    raise RuntimeError(message)
