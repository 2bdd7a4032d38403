"""A ticket's timeline as people read it: one line per change, names instead of ids."""

from __future__ import annotations

from typing import Any

from opsdesk.accounts.models import Team, User
from opsdesk.tickets import selectors
from opsdesk.tickets.choices import EventKind, Level, PendingReason, Priority, ResolutionCode, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.views.common import PLAIN_STATUS

ICONS = {
    EventKind.CREATED: "plus-circle",
    EventKind.PUBLIC_REPLY: "chat-left-text",
    EventKind.INTERNAL_NOTE: "lock",
    EventKind.STATUS: "flag",
    EventKind.ASSIGNMENT: "person-check",
    EventKind.FIELDS: "pencil",
    EventKind.WORKLOG: "stopwatch",
    EventKind.ROUTING: "signpost-split",
    EventKind.ESCALATION: "arrow-up-circle",
    EventKind.LINK: "link-45deg",
    EventKind.MERGE: "union",
    EventKind.ATTACHMENT: "paperclip",
    EventKind.SURVEY: "star",
    EventKind.APPROVAL: "check2-square",
    EventKind.TASK: "list-check",
}
FIELD_LABELS = {"is_major": "major incident", "assigned_team": "team"}


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _field_value(name: str, value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if name in ("impact", "urgency"):
        return _label(Level, value)
    if name == "priority":
        return _label(Priority, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _status_words(value: str, *, plain: bool) -> str:
    if plain:
        return PLAIN_STATUS.get(value, value)
    return _label(Status, value)


def _summary(event: TimelineEvent, *, plain: bool, teams: dict, people: dict) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return "Opened" if plain else f"Opened via {data.get('channel', 'portal')}"
    if kind == EventKind.STATUS and "status" in data:
        before, after = data["status"]
        text = f"{_status_words(before, plain=plain)} → {_status_words(after, plain=plain)}"
        if not plain and data.get("pending_reason"):
            text += f" ({_label(PendingReason, data['pending_reason']).lower()})"
        if not plain and data.get("resolution_code"):
            text += f" ({_label(ResolutionCode, data['resolution_code']).lower()})"
        return text
    if kind == EventKind.ASSIGNMENT:
        team = teams.get((data.get("team") or [None, None])[1])
        person = people.get((data.get("assignee") or [None, None])[1])
        return (
            "Assigned to " + " · ".join(str(part) for part in (team, person) if part)
            if team or person
            else "Assigned"
        )
    if kind == EventKind.FIELDS:
        parts = [
            f"{FIELD_LABELS.get(name, name.replace('_', ' '))}: "
            f"{_field_value(name, pair[0])} → {_field_value(name, pair[1])}"
            for name, pair in data.items()
            if isinstance(pair, list) and len(pair) == 2 and name not in ("service", "category")
        ]
        parts += [f"{name} changed" for name in data if name in ("service", "category")]
        return "; ".join(parts) or "Details changed"
    if kind == EventKind.WORKLOG:
        return f"{event.minutes or 0} min logged"
    if kind == EventKind.SURVEY:
        return f"Rated {data.get('rating', '?')} out of 5"
    if kind == EventKind.ATTACHMENT or (kind == EventKind.INTERNAL_NOTE and data.get("file")):
        return f"Attached {data.get('file', 'a file')}" + (
            " (internal)" if kind == EventKind.INTERNAL_NOTE else ""
        )
    if kind == EventKind.LINK:
        return "; ".join(_link_words(name, value) for name, value in data.items())
    if kind == EventKind.MERGE:
        return f"Merged {data.get('merged', '')} into this ticket"
    if kind in (EventKind.APPROVAL, EventKind.TASK) and data.get("summary"):
        # The request catalogue words its own lines ("Approved by …", "Task … done").
        return str(data["summary"])
    return event.get_kind_display()


def _link_words(name: str, value: Any) -> str:
    if name == "parent":
        after = value[1] if isinstance(value, list) else value
        return f"Now a child of {after}" if after else "No longer a child of another ticket"
    if name == "child":
        return f"{value} added as a child"
    if name == "related":
        return f"Related to {value}"
    if name == "problem":
        return f"Linked to problem {value}"
    return f"{name}: {_field_value(name, value)}"


def timeline_entries(*, user: Any, ticket: Ticket) -> list[TimelineEvent]:
    """The timeline the user may see, each entry with ``summary``, ``icon`` and ``is_note``."""
    events = list(selectors.timeline_for(user=user, ticket=ticket))
    team_ids, person_ids = set(), set()
    for event in events:
        if event.kind == EventKind.ASSIGNMENT:
            team_ids.add((event.data.get("team") or [None, None])[1])
            person_ids.add((event.data.get("assignee") or [None, None])[1])
    team_ids.discard(None)
    person_ids.discard(None)
    teams = (
        {team.pk: team.name for team in Team.objects.restrict(user, "view").filter(pk__in=team_ids)}
        if team_ids
        else {}
    )
    people = (
        {person.pk: person for person in User.objects.restrict(user, "view").filter(pk__in=person_ids)}
        if person_ids
        else {}
    )
    plain = not user.is_agent
    for event in events:
        event.summary = _summary(event, plain=plain, teams=teams, people=people)
        event.icon = ICONS.get(event.kind, "dot")
        event.is_note = event.kind == EventKind.INTERNAL_NOTE
        event.is_message = event.kind in (EventKind.PUBLIC_REPLY, EventKind.INTERNAL_NOTE) and bool(
            event.body_html
        )
    return events
