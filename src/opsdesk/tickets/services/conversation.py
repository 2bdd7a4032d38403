"""Attachments on tickets."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import ensure_allowed
from opsdesk.core.uploads import check_upload
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.models import Attachment, Ticket
from opsdesk.tickets.services.lifecycle import record_event


def ticket_attach(*, actor: User, ticket: Ticket, upload: Any, public: bool = True) -> Attachment:
    """Attach a file to a ticket: an allowed type whose content matches its name, within the size limit."""
    # Attaching is changing the ticket: read-only roles (auditors) may not, whatever the path.
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent and not public:
        raise NotAllowed("Only the service desk keeps files hidden from the requester.", field="public")
    if ticket.status in (Status.CLOSED, Status.CANCELLED):
        raise ServiceError("This ticket is closed; raise a new one.", code="ticket_final")
    checked = check_upload(upload)
    with transaction.atomic(), acting(actor=actor):
        event = record_event(
            ticket,
            EventKind.ATTACHMENT if public else EventKind.INTERNAL_NOTE,
            actor,
            data={"file": checked.name, "size": checked.size},
        )
        attachment = Attachment(
            ticket=ticket,
            event=event,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            is_public=public,
            uploaded_by=actor,
        )
        attachment.file.save(checked.name, upload, save=False)
        attachment.save()
    return attachment
