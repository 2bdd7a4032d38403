"""Writes for the service desk. Every path (portal, agent workspace, API, e-mail, rules) goes
through these, so numbering, the priority matrix, the state machine, the milestones and the
timeline hold everywhere."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from opsdesk.accounts.models import Team, User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.richtext import render_markdown, sanitize_html
from opsdesk.core.services import check_version, ensure_allowed
from opsdesk.tickets import workflows
from opsdesk.tickets.choices import (
    DEFAULT_PRIORITY_MATRIX,
    NUMBER_PREFIX,
    NUMBER_START,
    OPEN_STATUSES,
    Channel,
    EventKind,
    Level,
    ResolutionCode,
    Status,
    TicketType,
)
from opsdesk.tickets.models import NumberSequence, PriorityRule, Survey, Ticket, TimelineEvent
from opsdesk.tickets.notifications import send_survey_request
from opsdesk.tickets.signals import announce_change, timeline_event_recorded

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
# What agents may change with a plain update; status, assignment and links have their own services.
AGENT_FIELDS = frozenset(
    {"title", "description", "service", "category", "impact", "urgency", "tags", "is_major", "tier", "type"}
)


def next_number(prefix: str) -> str:
    """The next human number for ``prefix`` (INC0001001). Call inside the creating transaction."""
    updated = NumberSequence.objects.filter(prefix=prefix).update(last=F("last") + 1)
    if not updated:
        NumberSequence.objects.get_or_create(prefix=prefix, defaults={"last": NUMBER_START - 1})
        NumberSequence.objects.filter(prefix=prefix).update(last=F("last") + 1)
    last = NumberSequence.objects.values_list("last", flat=True).get(prefix=prefix)
    return f"{prefix}{last:07d}"


def priority_for(*, impact: int, urgency: int) -> int:
    """The priority the matrix gives to an impact and an urgency (the ITIL default where unset)."""
    rule = (
        PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list("priority", flat=True).first()
    )
    return rule if rule is not None else DEFAULT_PRIORITY_MATRIX[(impact, urgency)]


def _clean_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list | tuple) or any(not isinstance(tag, str) for tag in tags):
        raise ServiceError("Tags are a list of words.", field="tags")
    cleaned = sorted({tag.strip().lower() for tag in tags if tag.strip()})
    if len(cleaned) > MAX_TAGS or any(len(tag) > MAX_TAG_LENGTH for tag in cleaned):
        raise ServiceError(f"At most {MAX_TAGS} tags of {MAX_TAG_LENGTH} characters.", field="tags")
    return cleaned


def _no_nul(value: str) -> str:
    """Text without NUL characters: PostgreSQL refuses them, and no channel (mail, webhooks,
    chat) may turn one into a server error."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _check_level(name: str, value: Any) -> int:
    if value not in Level.values:
        raise ServiceError(f"{name.capitalize()} is 1 (high), 2 (medium) or 3 (low).", field=name)
    return int(value)


def record_event(
    ticket: Ticket,
    kind: str,
    actor: User | None,
    *,
    body: str = "",
    data: dict | None = None,
    minutes: int | None = None,
) -> TimelineEvent:
    event = TimelineEvent.objects.create(
        ticket=ticket,
        kind=kind,
        author=actor if actor and actor.pk else None,
        body=body,
        body_html=render_markdown(body) if body else "",
        data=data or {},
        minutes=minutes,
    )
    timeline_event_recorded.send(sender=TimelineEvent, event=event)
    return event


def _role(actor: User) -> str:
    return workflows.AGENT if actor.is_agent else workflows.REQUESTER


def ticket_create(
    *,
    actor: User,
    title: str,
    type: str = TicketType.INCIDENT,
    requester: User | None = None,
    description: str = "",
    description_html: str | None = None,
    service=None,
    category=None,
    impact: int = Level.LOW,
    urgency: int = Level.LOW,
    channel: str = Channel.PORTAL,
    tags: list[str] | None = None,
    watchers: list[User] | None = None,
) -> Ticket:
    """Raise a ticket. Requesters raise their own; agents raise them for anyone.

    ``description_html`` (from e-mail or an editor) is sanitized and kept; otherwise the
    Markdown ``description`` is rendered and sanitized.
    """
    requester = requester or actor
    title, description = _no_nul(title), _no_nul(description)
    if not actor.is_agent and requester.pk != actor.pk:
        raise NotAllowed("You can only report problems for yourself.", field="requester")
    if type not in TicketType.values:
        raise ServiceError("The type is incident or request.", field="type")
    if channel not in Channel.values:
        raise ServiceError(f"The channel is one of: {', '.join(Channel.values)}.", field="channel")
    if not title.strip():
        raise ServiceError("Say in a few words what this is about.", field="title")
    impact, urgency = _check_level("impact", impact), _check_level("urgency", urgency)
    with transaction.atomic(), acting(actor=actor):
        ticket = Ticket(
            number=next_number(NUMBER_PREFIX[type]),
            type=type,
            title=title.strip(),
            description=description,
            description_html=sanitize_html(_no_nul(description_html))
            if description_html
            else render_markdown(description),
            requester=requester,
            organization=requester.organization,
            service=service,
            category=category,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact=impact, urgency=urgency),
            channel=channel,
            tags=_clean_tags(tags or []),
        )
        # The related records arrive as instances and the number is unique in the database:
        # validating those again would cost four queries on the desk's busiest write.
        ticket.full_clean(
            exclude=["number", "requester", "organization", "service", "category"], validate_unique=False
        )
        ticket.save()
        if watchers:
            ticket.watchers.set(watchers)
        ensure_allowed(actor=actor, action="add", instance=ticket)
        record_event(ticket, EventKind.CREATED, actor, data={"channel": channel, "priority": ticket.priority})
        # Imported here: the rule engines build on this module's record_event.
        from opsdesk.tickets.services.escalation import new_ticket_rules_apply

        new_ticket_rules_apply(ticket=ticket)
        announce_change(ticket)
    return ticket


def ticket_update(
    *, actor: User, ticket: Ticket, data: dict[str, Any], expected_version: int | None = None
) -> Ticket:
    """Change a ticket's fields (agents). Impact and urgency recompute the priority."""
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent:
        raise NotAllowed("Reply to your ticket to tell us more; the service desk updates its details.")
    refused = sorted(set(data) - AGENT_FIELDS)
    if refused:
        raise ServiceError(f"{', '.join(refused)} cannot be changed here.", field=refused[0])
    if "type" in data and data["type"] != ticket.type:
        raise ServiceError("A ticket keeps its type; raise a new one of the other type.", field="type")
    data = {name: _no_nul(value) for name, value in data.items()}
    for name in ("impact", "urgency"):
        if name in data:
            data[name] = _check_level(name, data[name])
    if "tags" in data:
        data["tags"] = _clean_tags(data["tags"])
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=ticket, expected_version=expected_version)
        before = {name: getattr(ticket, name) for name in data}
        for name, value in data.items():
            setattr(ticket, name, value)
        if "description" in data:
            ticket.description_html = render_markdown(ticket.description)
        if {"impact", "urgency"} & set(data):
            # Only a new impact or urgency re-reads the matrix: a priority a routing rule set stands.
            ticket.priority = priority_for(impact=ticket.impact, urgency=ticket.urgency)
        ticket.full_clean()
        ticket.save()
        changed = {
            name: [_plain(before[name]), _plain(getattr(ticket, name))]
            for name in data
            if before[name] != getattr(ticket, name)
        }
        if changed:
            record_event(ticket, EventKind.FIELDS, actor, data=changed)
            announce_change(ticket)
    return ticket


def _plain(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


def ticket_assign(
    *,
    actor: User,
    ticket: Ticket,
    team: Team,
    assignee: User | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> Ticket:
    """Give the ticket to a team, and optionally to one of its agents."""
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent:
        raise NotAllowed("Only the service desk assigns tickets.")
    if ticket.status in (Status.CLOSED, Status.CANCELLED):
        raise ServiceError(
            f"A {ticket.get_status_display().lower()} ticket cannot be assigned.", code="ticket_final"
        )
    if assignee is not None and not team.memberships.filter(user=assignee).exists():
        raise ServiceError(
            f"{assignee} is not a member of {team.name}.", code="not_in_team", field="assignee"
        )
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=ticket, expected_version=expected_version)
        before = {"team": ticket.assigned_team_id, "assignee": ticket.assignee_id}
        ticket.assigned_team, ticket.assignee, ticket.tier = team, assignee, team.tier
        ticket.assigned_at = timezone.now()
        if ticket.status == Status.NEW:
            ticket.status = Status.ASSIGNED
        ticket.save()
        record_event(
            ticket,
            EventKind.ASSIGNMENT,
            actor,
            body=reason,
            data={
                "team": [before["team"], team.pk],
                "assignee": [before["assignee"], assignee.pk if assignee else None],
            },
        )
        announce_change(ticket)
    return ticket


def ticket_transition(
    *,
    actor: User,
    ticket: Ticket,
    to: str,
    expected_version: int | None = None,
    resolution_code: str = "",
    resolution_notes: str = "",
    pending_reason: str = "",
    note: str = "",
    resolve_children: bool = False,
) -> Ticket:
    """Move a ticket through its state machine; an illegal move names the allowed ones.

    Resolving asks the requester for a rating. With ``resolve_children``, resolving a parent
    (a major incident) resolves its open children with the same code.
    """
    ensure_allowed(actor=actor, action="change", instance=ticket)
    role = _role(actor)
    move = workflows.transition_for(ticket_type=ticket.type, status=ticket.status, to=to)
    if move is None or role not in move.who:
        allowed = workflows.allowed_moves(ticket_type=ticket.type, status=ticket.status, role=role)
        names = ", ".join(Status(item).label.lower() for item in allowed) or "none"
        raise ServiceError(
            f"A {ticket.get_status_display().lower()} ticket cannot become {to}; allowed: {names}.",
            code="invalid_transition",
            field="status",
        )
    values = {
        "resolution_code": resolution_code,
        "pending_reason": pending_reason,
        "assigned_team": ticket.assigned_team,
    }
    missing = [name for name in move.requires if not values.get(name)]
    if missing:
        raise ServiceError(
            f"To make this a {Status(to).label.lower()} ticket, give {', '.join(missing)}.",
            code="required",
            field=missing[0],
        )
    now = timezone.now()
    reopening = ticket.status == Status.RESOLVED and to == Status.IN_PROGRESS
    if (
        reopening
        and ticket.resolved_at
        and now - ticket.resolved_at > timedelta(days=settings.TICKET_REOPEN_DAYS)
    ):
        raise ServiceError(
            f"Tickets reopen within {settings.TICKET_REOPEN_DAYS} days of their resolution; raise a new one.",
            code="reopen_period_over",
            field="status",
        )
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=ticket, expected_version=expected_version)
        before = ticket.status
        ticket.status = to
        ticket.pending_reason = pending_reason if to == Status.PENDING else ""
        if to == Status.RESOLVED:
            ticket.resolution_code, ticket.resolution_notes, ticket.resolved_at = (
                resolution_code,
                resolution_notes,
                now,
            )
        elif to == Status.CLOSED:
            ticket.closed_at = now
        elif reopening:
            ticket.reopened_at, ticket.reopen_count = now, ticket.reopen_count + 1
            ticket.resolution_code, ticket.resolved_at = "", None
        ticket.full_clean()
        ticket.save()
        record_event(
            ticket,
            EventKind.STATUS,
            actor,
            body=note or resolution_notes,
            data={
                "status": [before, to],
                **({"pending_reason": pending_reason} if pending_reason else {}),
                **({"resolution_code": resolution_code} if to == Status.RESOLVED else {}),
            },
        )
        announce_change(ticket)
        if to == Status.RESOLVED:
            # A rejected request was refused by its approvers: there is no service to rate.
            if resolution_code != ResolutionCode.REJECTED:
                survey, created = Survey.objects.get_or_create(
                    ticket=ticket, defaults={"token": secrets.token_urlsafe(32)}
                )
                if created:
                    send_survey_request.enqueue(survey_id=survey.pk)
            if resolve_children:
                for child in ticket.children.filter(status__in=OPEN_STATUSES):
                    ticket_transition(
                        actor=actor,
                        ticket=child,
                        to=Status.RESOLVED,
                        resolution_code=resolution_code,
                        resolution_notes=resolution_notes,
                        note=f"Resolved with {ticket.number}.",
                    )
    return ticket


def ticket_reply(*, actor: User, ticket: Ticket, body: str, public: bool = True) -> TimelineEvent:
    """A public reply (the requester sees it) or an internal note (agents only).

    An agent's first public reply is the first response. A requester's reply to a ticket
    waiting on them puts it back in progress.
    """
    if actor.is_agent:
        # Writing on a ticket is changing it: read-only roles (auditors) may not, whatever the path.
        ensure_allowed(actor=actor, action="change", instance=ticket)
    else:
        # Requesters speak on tickets they raised or watch (a merged duplicate's requester watches).
        ensure_allowed(actor=actor, action="view", instance=ticket)
        if actor.pk != ticket.requester_id and not ticket.watchers.filter(pk=actor.pk).exists():
            raise NotAllowed("Only the people on this ticket can reply to it.")
        if not public:
            raise NotAllowed("Internal notes are for the service desk.", field="public")
    body = _no_nul(body)
    if not body.strip():
        raise ServiceError("Write something first.", field="body")
    if ticket.status in (Status.CLOSED, Status.CANCELLED):
        raise ServiceError("This ticket is closed; raise a new one.", code="ticket_final")
    with transaction.atomic(), acting(actor=actor):
        event = record_event(
            ticket, EventKind.PUBLIC_REPLY if public else EventKind.INTERNAL_NOTE, actor, body=body
        )
        fields = []
        if public and actor.is_agent and ticket.first_response_at is None and actor.pk != ticket.requester_id:
            ticket.first_response_at = event.created_at
            fields.append("first_response_at")
        if not actor.is_agent and ticket.status == Status.PENDING and ticket.pending_reason == "requester":
            ticket.status, ticket.pending_reason = Status.IN_PROGRESS, ""
            fields += ["status", "pending_reason"]
            record_event(
                ticket, EventKind.STATUS, actor, data={"status": [Status.PENDING, Status.IN_PROGRESS]}
            )
        if fields:
            ticket.save(update_fields=fields)
        if public:
            announce_change(ticket)
    return event


def ticket_log_work(*, actor: User, ticket: Ticket, minutes: int, note: str = "") -> TimelineEvent:
    """Record time spent on the ticket (agents)."""
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent:
        raise NotAllowed("Only the service desk logs work.")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= 24 * 60:
        raise ServiceError("Minutes spent: a whole number from 1 to 1440.", field="minutes")
    with transaction.atomic(), acting(actor=actor):
        return record_event(ticket, EventKind.WORKLOG, actor, body=note, minutes=minutes)


def tickets_close_resolved(*, now: datetime | None = None) -> int:
    """Close tickets resolved longer ago than the reopen period (the system does this, daily).
    Returns how many were closed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKET_REOPEN_DAYS)
    closed = 0
    for ticket in Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff).order_by("id")[:1000]:
        with transaction.atomic(), acting(channel="system"):
            ticket.status, ticket.closed_at = Status.CLOSED, now
            ticket.save()
            record_event(
                ticket,
                EventKind.STATUS,
                None,
                data={"status": [Status.RESOLVED, Status.CLOSED]},
                body=f"Closed automatically {settings.TICKET_REOPEN_DAYS} days after its resolution.",
            )
            announce_change(ticket)
        closed += 1
    return closed
