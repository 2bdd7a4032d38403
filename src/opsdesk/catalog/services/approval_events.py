"""How the approval engine tells people: the step summary the ticket's timeline shows, and
the approval mail it queues. Shared by ``approvals``, ``delegations`` and ``approval_sweep``."""

from __future__ import annotations

from opsdesk.catalog.models import Approval, CatalogRequest


def step_summary(approval: Approval, total_steps: int) -> str:
    """Where an approval stands, for timeline lines: "step 1 of 2: Manager"."""
    return f"step {approval.step} of {total_steps}: {approval.step_name}"


def count_steps(request: CatalogRequest) -> int:
    """How many approval steps the request had when ordered (its approvals keep the steps)."""
    return len(set(request.approvals.values_list("step", flat=True)))


def enqueue_approval_mail(approval_ids: list[int], kind: str) -> None:
    """Queue the approval mail of ``kind`` (``notifications.MAIL_KINDS``) to these approvals."""
    if not approval_ids:
        return
    # Imported here: the mail module builds on this one (links). With the database task
    # backend the job row is written in this transaction, so a rolled-back change mails nobody.
    from opsdesk.catalog.notifications import send_approval_mail

    send_approval_mail.enqueue(approval_ids=approval_ids, kind=kind)
