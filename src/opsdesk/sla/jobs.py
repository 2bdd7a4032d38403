"""Background jobs the services enqueue after an edit commits: re-timing the open timers of a
calendar or a policy, and rebuilding every open ticket's timers after the coverage of the
policies changed. The services are imported when a job runs: they enqueue these jobs."""

from __future__ import annotations

import logging

from opsdesk.core.jobs import job_task

logger = logging.getLogger("opsdesk.sla.jobs")


@job_task
def retime_timers(calendar_id: int | None = None, policy_id: int | None = None) -> int:
    """Re-measure the open timers of a calendar or a policy after it was edited."""
    from opsdesk.sla.services import timers_retime

    changed = timers_retime(calendar_id=calendar_id, policy_id=policy_id)
    logger.info("re-timed %s open timers (calendar %s, policy %s)", changed, calendar_id, policy_id)
    return changed


@job_task
def recompute_open_tickets() -> int:
    """Rebuild the timers of every open ticket after the coverage of the policies changed."""
    from opsdesk.sla.services import open_tickets_recompute

    done = open_tickets_recompute()
    logger.info("rebuilt the timers of %s open tickets", done)
    return done
