"""Background work of the e-mail intake: the IMAP poll every minute."""

from __future__ import annotations

import logging

from opsdesk.core.jobs import job_task
from opsdesk.core.scheduler import register_schedule
from opsdesk.mail.imap import ImapError, poll_mailbox
from opsdesk.mail.selectors import mailboxes_to_poll

logger = logging.getLogger("opsdesk.mail.tasks")


@job_task
def poll_mailboxes() -> dict[str, int | str]:
    """Poll every active IMAP mailbox; one mailbox's failure does not stop the others."""
    results: dict[str, int | str] = {}
    for mailbox in mailboxes_to_poll():
        try:
            results[mailbox.address] = poll_mailbox(mailbox)
        except ImapError as exc:
            logger.error("mail: polling %s failed: %s", mailbox.address, exc)
            results[mailbox.address] = f"failed: {exc}"
        except Exception as exc:
            logger.exception("mail: polling %s failed", mailbox.address)
            results[mailbox.address] = f"failed: {type(exc).__name__}: {exc}"
    return results


register_schedule(name="mail-poll", task="opsdesk.mail.tasks.poll_mailboxes", cron="* * * * *")
