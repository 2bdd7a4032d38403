"""Reads for notifications: which notification a timeline event is, who should get it, what
each person chose, and which template applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from opsdesk.accounts.models import Team, User
from opsdesk.notifications.choices import (
    DEFAULT_PREFERENCES,
    REQUESTER_EVENTS,
    Audience,
    NotificationEvent,
)
from opsdesk.notifications.defaults import DEFAULTS, FALLBACK_LANGUAGE, default_template
from opsdesk.notifications.models import NotificationPreference, NotificationTemplate
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.models import TimelineEvent


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: a person (with preferences and a language) or a team's shared address."""

    address: str
    user: User | None
    audience: str
    language: str

    @property
    def name(self) -> str:
        if self.user is None:
            return ""
        return self.user.first_name or self.user.get_full_name() or self.user.username


# --- preferences --------------------------------------------------------------------------------


def audience_of(user: User) -> str:
    return Audience.AGENT if user.is_agent else Audience.REQUESTER


def preferences_for(user: User) -> dict[str, bool]:
    """Each event → whether ``user`` gets its e-mail (their choice, else their role's default)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("event", "enabled"))
    defaults = DEFAULT_PREFERENCES[audience_of(user)]
    return {event: chosen.get(event, defaults[event]) for event in NotificationEvent.values}


def events_for(user: User) -> list[str]:
    """The events ``user`` can be told about at all (requesters never hear of internal work)."""
    return list(REQUESTER_EVENTS) if not user.is_agent else list(NotificationEvent.values)


# --- templates ----------------------------------------------------------------------------------


def template_languages() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


def template_for(event: str, language: str) -> dict[str, str]:
    """The subject and bodies that apply to ``event`` in ``language``: the saved template, else
    the shipped default of that language, else English (saved, then shipped)."""
    rows = {
        row.language: row
        for row in NotificationTemplate.objects.filter(
            event=event, language__in={language, FALLBACK_LANGUAGE}
        )
    }
    found = rows.get(language)
    if found is not None:
        return {"subject": found.subject, "body_text": found.body_text, "body_html": found.body_html}
    if language in DEFAULTS:
        return default_template(event, language)
    fallback = rows.get(FALLBACK_LANGUAGE)
    if fallback is not None:
        return {"subject": fallback.subject, "body_text": fallback.body_text, "body_html": fallback.body_html}
    return default_template(event, FALLBACK_LANGUAGE)


def template_overview() -> list[dict[str, Any]]:
    """Every event × language with whether an administrator customised it."""
    saved = {(row.event, row.language): row for row in NotificationTemplate.objects.all()}
    return [
        {
            "event": event,
            "label": label,
            "languages": [
                {"code": code, "name": name, "saved": saved.get((event, code))}
                for code, name in template_languages()
            ],
        }
        for event, label in NotificationEvent.choices
    ]


# --- what an event is and who hears of it ----------------------------------------------------


def _changed(data: dict, name: str) -> tuple[Any, Any] | None:
    pair = data.get(name)
    if isinstance(pair, list | tuple) and len(pair) == 2 and pair[0] != pair[1]:
        return pair[0], pair[1]
    return None


def assignment_changes(event: TimelineEvent) -> dict[str, Any]:
    """The team and assignee changes an assignment, routing or escalation event made."""
    if event.kind == EventKind.ASSIGNMENT:
        data = event.data or {}
    elif event.kind in (EventKind.ROUTING, EventKind.ESCALATION):
        data = (event.data or {}).get("changes") or {}
    else:
        return {}
    return {name: pair for name in ("team", "assignee") if (pair := _changed(data, name))}


def notification_kind(event: TimelineEvent) -> str | None:
    """Which notification a timeline event is, or None when it tells nobody (internal notes,
    work logs, links…). Escalation notices and survey requests are mailed by the service desk
    itself and are not repeated here."""
    if event.kind == EventKind.CREATED:
        return NotificationEvent.CREATED
    if event.kind == EventKind.PUBLIC_REPLY:
        return NotificationEvent.REPLY
    if event.kind == EventKind.STATUS:
        status = _changed(event.data or {}, "status")
        if status is None:
            return None
        return NotificationEvent.RESOLVED if status[1] == Status.RESOLVED else NotificationEvent.STATUS
    if event.kind == EventKind.SLA:
        return NotificationEvent.SLA_WARNING
    if event.kind in (EventKind.ASSIGNMENT, EventKind.ROUTING, EventKind.ESCALATION):
        return NotificationEvent.ASSIGNED if assignment_changes(event) else None
    return None


# Which kinds of timeline event can become a notification: the receiver checks this without a query.
CANDIDATE_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.PUBLIC_REPLY,
        EventKind.STATUS,
        EventKind.SLA,
        EventKind.ASSIGNMENT,
        EventKind.ROUTING,
        EventKind.ESCALATION,
    }
)


def _language(user: User | None) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    language = (getattr(user, "language", "") or "").split("-")[0].lower()
    return language if language in codes else settings.LANGUAGE_CODE


def _people(users: list[User | None]) -> list[User]:
    seen, people = set(), []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            people.append(user)
    return people


def _team_recipients(team: Team | None) -> tuple[list[User], list[str]]:
    """A team with nobody assigned: its members, and its shared address if it has one."""
    if team is None:
        return [], []
    members = list(team.members.filter(is_active=True).order_by("pk"))
    return members, [team.email] if team.email else []


def recipients_for(event: TimelineEvent, kind: str) -> list[Recipient]:
    """Who gets ``kind`` about ``event``: the people its rules name, minus the actor (except the
    acknowledgement of a ticket a requester raised by e-mail), anyone
    without an address or who opted out, and (for internal work) anyone who is not staff."""
    ticket = event.ticket
    actor_id = event.author_id
    requester_side = _people([ticket.requester, *ticket.watchers.all()])
    desk_side: list[User] = []
    team_addresses: list[str] = []

    if kind in (NotificationEvent.CREATED, NotificationEvent.STATUS, NotificationEvent.RESOLVED):
        people = requester_side
        if kind == NotificationEvent.STATUS and ticket.assignee_id:
            desk_side = [ticket.assignee]
        if kind == NotificationEvent.CREATED and ticket.assigned_team_id and not ticket.assignee_id:
            desk_side = list(ticket.assigned_team.members.filter(is_active=True))
        if kind == NotificationEvent.RESOLVED and hasattr(ticket, "survey"):
            # The survey e-mail already tells the requester their ticket is resolved.
            people = [person for person in people if person.pk != ticket.requester_id]
    elif kind == NotificationEvent.REPLY:
        author = event.author
        people = requester_side
        if author is None or not author.is_agent:
            if ticket.assignee_id:
                desk_side = [ticket.assignee]
            else:
                desk_side, team_addresses = _team_recipients(ticket.assigned_team)
    elif kind == NotificationEvent.ASSIGNED:
        people = []
        changes = assignment_changes(event)
        already_told = set((event.data or {}).get("notified") or [])
        if ticket.assignee_id and "assignee" in changes:
            desk_side = [ticket.assignee]
        elif not ticket.assignee_id:
            desk_side, team_addresses = _team_recipients(ticket.assigned_team)
        desk_side = [person for person in desk_side if person.pk not in already_told]
    elif kind == NotificationEvent.SLA_WARNING:
        people = []
        breached = any(int(percent) >= 100 for percent in (event.data or {}).get("percent") or [])
        lead = ticket.assigned_team.lead if ticket.assigned_team_id else None
        desk_side = [ticket.assignee] if ticket.assignee_id else []
        if lead is not None and (breached or not desk_side):
            desk_side.append(lead)
    else:
        return []

    recipients: list[Recipient] = []
    seen: set[str] = set()
    # A requester who wrote in by e-mail gets an acknowledgement of the ticket their mail
    # raised: the number to quote and a thread to reply to (no screen showed them either). It
    # carries Auto-Submitted, so well-behaved auto-responders stay quiet.
    by_mail = kind == NotificationEvent.CREATED and (event.data or {}).get("channel") == "email"
    acknowledged = ticket.requester_id if by_mail else None
    for user in _people([*people, *desk_side]):
        if (user.pk == actor_id and user.pk != acknowledged) or not user.is_active or not user.email:
            continue
        if kind not in REQUESTER_EVENTS and not user.is_agent:
            continue  # internal work is never mailed to requesters
        if not preferences_for(user).get(kind, False):
            continue
        address = user.email.strip().lower()
        if address not in seen:
            seen.add(address)
            recipients.append(
                Recipient(address=address, user=user, audience=audience_of(user), language=_language(user))
            )
    for address in team_addresses:
        address = address.strip().lower()
        if address and address not in seen:
            seen.add(address)
            recipients.append(
                Recipient(
                    address=address, user=None, audience=Audience.AGENT, language=settings.LANGUAGE_CODE
                )
            )
    return recipients
