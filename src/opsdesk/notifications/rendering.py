"""Turning a template and a ticket event into a message: the sandboxed template engine, the
plain values templates see, and the clean-up every header value gets.

Templates never see model instances, only dicts of strings built here, so an administrator's
template cannot reach into the database, call methods with side effects, or read a field a
recipient must not see (internal notes are never put into a context).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from opsdesk.core.richtext import sanitize_html
from opsdesk.notifications.constants import MAX_QUOTED_REPLY, MAX_SUBJECT
from opsdesk.tickets.mail_threading import SUBJECT_TAG

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


class SandboxEngine(Engine):
    # Engine adds Django's full tag set to any builtins given; the sandbox replaces it.
    default_builtins = ["opsdesk.notifications.sandbox"]


def _engine(*, autoescape: bool) -> Engine:
    return SandboxEngine(
        dirs=[], app_dirs=False, loaders=[], libraries={}, builtins=[], autoescape=autoescape, debug=True
    )


HTML_ENGINE = _engine(autoescape=True)
TEXT_ENGINE = _engine(autoescape=False)


@dataclass(frozen=True)
class TemplateProblem:
    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


def compile_problem(source: str, *, field: str, html: bool) -> TemplateProblem | None:
    """Why ``source`` is not a usable template (with its line), or None when it compiles."""
    engine = HTML_ENGINE if html else TEXT_ENGINE
    try:
        engine.from_string(source)
    except TemplateSyntaxError as error:
        debug = getattr(error, "template_debug", None) or {}
        return TemplateProblem(field=field, line=debug.get("line"), message=str(error))
    return None


def render_part(source: str, context: dict[str, Any], *, html: bool) -> str:
    engine = HTML_ENGINE if html else TEXT_ENGINE
    return engine.from_string(source).render(Context(context, autoescape=html))


def header_value(value: str, *, limit: int = MAX_SUBJECT) -> str:
    """One line for a mail header: no CR, LF, NUL or other control characters (header
    injection), runs of whitespace collapsed, cut at ``limit``."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def subject_line(rendered: str, ticket_number: str) -> str:
    """The rendered subject as one header line, always carrying the ticket tag."""
    subject = header_value(rendered)
    if SUBJECT_TAG.search(subject) is None or f"[{ticket_number}]" not in subject:
        subject = header_value(f"[{ticket_number}] {subject}")
    return subject


# --- the values templates see ---------------------------------------------------------------


def person_name(user: Any) -> str:
    if user is None:
        return ""
    return (user.get_full_name() or user.username).strip()


def absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def rich_text(markdown_html: str, text: str) -> dict[str, Any]:
    """A body as templates see it: sanitized HTML (safe to print unescaped) and plain text."""
    html = sanitize_html(markdown_html or "")[:MAX_QUOTED_REPLY]
    plain = (text or strip_tags(html))[:MAX_QUOTED_REPLY]
    return {"html": mark_safe(html), "text": plain}  # noqa: S308  (nh3-sanitized just above)


def ticket_values(ticket: Any) -> dict[str, str]:
    return {
        "number": ticket.number,
        "title": ticket.title,
        "type": ticket.get_type_display(),
        "status": ticket.get_status_display(),
        "priority": ticket.get_priority_display(),
        "requester": person_name(ticket.requester),
        "team": ticket.assigned_team.name if ticket.assigned_team_id else "",
        "assignee": person_name(ticket.assignee) if ticket.assignee_id else "",
        "url": absolute(reverse("tickets:detail", args=[ticket.number])),
    }


def base_context(*, ticket: Any, actor: Any, recipient_name: str) -> dict[str, Any]:
    return {
        "ticket": ticket_values(ticket),
        "actor": {"name": person_name(actor) or "The service desk"},
        "recipient": {"name": recipient_name or "there"},
        "desk": {
            "name": getattr(settings, "OPSDESK_DESK_NAME", "") or "IT service desk",
            "url": settings.SITE_URL,
        },
        "preferences_url": absolute(reverse("notifications:preferences")),
        "reply": {"html": "", "text": ""},
        "note": {"html": "", "text": ""},
        "sla": {"text": "", "percent": ""},
    }


def sample_context() -> dict[str, Any]:
    """A made-up ticket for previews and for checking a template before it is saved."""
    return {
        "ticket": {
            "number": "INC0001234",
            "title": "VPN drops every few minutes",
            "type": "Incident",
            "status": "In progress",
            "priority": "P2 — high",
            "requester": "Riley Requester",
            "team": "Service Desk",
            "assignee": "Alex Agent",
            "url": absolute("/tickets/INC0001234/"),
        },
        "actor": {"name": "Alex Agent"},
        "recipient": {"name": "Riley Requester"},
        "desk": {
            "name": getattr(settings, "OPSDESK_DESK_NAME", "") or "IT service desk",
            "url": settings.SITE_URL,
        },
        "preferences_url": absolute(reverse("notifications:preferences")),
        "reply": rich_text(
            "<p>Please reinstall the client from the <strong>software centre</strong> and restart.</p>",
            "Please reinstall the client from the **software centre** and restart.",
        ),
        "note": rich_text("<p>Fixed by the new client version.</p>", "Fixed by the new client version."),
        "sla": {
            "text": "Incidents: 80 % of the resolution target (240 business minutes) is used.",
            "percent": "80",
        },
    }


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body_text: str
    body_html: str


def render_message(
    template: dict[str, str], context: dict[str, Any], *, ticket_number: str
) -> RenderedMessage:
    """Render a template's three parts; the subject becomes one safe header line."""
    return RenderedMessage(
        subject=subject_line(render_part(template["subject"], context, html=False), ticket_number),
        body_text=render_part(template["body_text"], context, html=False).strip() + "\n",
        body_html=render_part(template["body_html"], context, html=True),
    )


def template_problems(template: dict[str, str]) -> list[TemplateProblem]:
    """What keeps a template from being used: syntax errors with their line, then errors of
    rendering it with the sample ticket (a filter given a wrong argument, say)."""
    problems = [
        problem
        for field, html in (("subject", False), ("body_html", True), ("body_text", False))
        if (problem := compile_problem(template[field], field=field, html=html))
    ]
    if problems:
        return problems
    try:
        rendered = render_message(template, sample_context(), ticket_number="INC0001234")
    except Exception as error:  # any template error: the admin must see it, not the worker
        return [TemplateProblem(field="body_html", line=None, message=f"It does not render: {error}")]
    if not rendered.subject.replace("[INC0001234]", "").strip():
        return [TemplateProblem(field="subject", line=None, message="The subject renders empty.")]
    return []
