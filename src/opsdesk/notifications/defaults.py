# ruff: noqa: E501  (message wording is data; breaking its lines would only hide it)
"""The templates the desk ships, per event and language: what applies until an administrator
saves their own. English is complete; German covers every event too. Other languages fall
back to English.

Subjects need no ticket tag: ``[INC0001234]`` is added in front when a template leaves it
out, because replies find their ticket by it when a mail client drops the threading headers.
"""

from __future__ import annotations

from opsdesk.notifications.choices import NotificationEvent

FALLBACK_LANGUAGE = "en"

_FOOTER_TEXT = """
--
{{ desk.name }} · {{ ticket.url }}
Reply to this e-mail to add to the ticket. Choose which e-mails you get: {{ preferences_url }}
"""
_FOOTER_HTML = """
<hr>
<p style="color:#6c757d;font-size:12px">{{ desk.name }} · <a href="{{ ticket.url }}">{{ ticket.number }}</a><br>
Reply to this e-mail to add to the ticket. <a href="{{ preferences_url }}">Choose which e-mails you get</a>.</p>
"""
_FOOTER_TEXT_DE = """
--
{{ desk.name }} · {{ ticket.url }}
Antworten Sie auf diese E-Mail, um das Ticket zu ergänzen. Benachrichtigungen einstellen: {{ preferences_url }}
"""
_FOOTER_HTML_DE = """
<hr>
<p style="color:#6c757d;font-size:12px">{{ desk.name }} · <a href="{{ ticket.url }}">{{ ticket.number }}</a><br>
Antworten Sie auf diese E-Mail, um das Ticket zu ergänzen. <a href="{{ preferences_url }}">Benachrichtigungen einstellen</a>.</p>
"""

_EN = {
    NotificationEvent.CREATED: (
        "[{{ ticket.number }}] {{ ticket.title }}",
        "Hello {{ recipient.name }},\n\n{{ actor.name }} logged {{ ticket.number }} for you: {{ ticket.title }}.\n"
        "We will keep you posted here.\n",
        "<p>Hello {{ recipient.name }},</p>\n<p>{{ actor.name }} logged <strong>{{ ticket.number }}</strong> "
        "for you: {{ ticket.title }}.</p>\n<p>We will keep you posted here.</p>",
    ),
    NotificationEvent.REPLY: (
        "Re: [{{ ticket.number }}] {{ ticket.title }}",
        "{{ actor.name }} wrote on {{ ticket.number }}:\n\n{{ reply.text }}\n",
        "<p><strong>{{ actor.name }}</strong> wrote on {{ ticket.number }}:</p>\n"
        '<div style="border-left:3px solid #dee2e6;padding-left:12px">{{ reply.html }}</div>',
    ),
    NotificationEvent.ASSIGNED: (
        "[{{ ticket.number }}] assigned to {% if ticket.assignee %}you{% else %}{{ ticket.team }}{% endif %}: "
        "{{ ticket.title }}",
        "{{ ticket.number }} — {{ ticket.title }}\n"
        "{% if ticket.assignee %}{{ actor.name }} assigned it to you{% else %}It waits in the queue of "
        "{{ ticket.team }}{% endif %}.\nPriority: {{ ticket.priority }}   Status: {{ ticket.status }}\n"
        "Requester: {{ ticket.requester }}\n",
        "<p><strong>{{ ticket.number }}</strong> — {{ ticket.title }}</p>\n"
        "<p>{% if ticket.assignee %}{{ actor.name }} assigned it to you{% else %}It waits in the queue of "
        "{{ ticket.team }}{% endif %}.</p>\n"
        "<p>Priority: {{ ticket.priority }} · Status: {{ ticket.status }} · Requester: {{ ticket.requester }}</p>",
    ),
    NotificationEvent.STATUS: (
        "[{{ ticket.number }}] now {{ ticket.status|lower }}: {{ ticket.title }}",
        "Hello {{ recipient.name }},\n\n{{ ticket.number }} ({{ ticket.title }}) is now {{ ticket.status|lower }}."
        "{% if note.text %}\n\n{{ note.text }}{% endif %}\n",
        "<p>Hello {{ recipient.name }},</p>\n<p>{{ ticket.number }} ({{ ticket.title }}) is now "
        "<strong>{{ ticket.status|lower }}</strong>.</p>{% if note.html %}\n<div>{{ note.html }}</div>{% endif %}",
    ),
    NotificationEvent.RESOLVED: (
        "[{{ ticket.number }}] resolved: {{ ticket.title }}",
        "Hello {{ recipient.name }},\n\n{{ ticket.number }} ({{ ticket.title }}) is resolved."
        "{% if note.text %}\n\n{{ note.text }}{% endif %}\n\nIf it is not fixed, reply and we reopen it.\n",
        "<p>Hello {{ recipient.name }},</p>\n<p>{{ ticket.number }} ({{ ticket.title }}) is "
        "<strong>resolved</strong>.</p>{% if note.html %}\n<div>{{ note.html }}</div>{% endif %}\n"
        "<p>If it is not fixed, reply and we reopen it.</p>",
    ),
    NotificationEvent.SLA_WARNING: (
        "[{{ ticket.number }}] service level: {{ ticket.title }}",
        "{{ sla.text }}\n\n{{ ticket.number }} — {{ ticket.title }}\nPriority: {{ ticket.priority }}   "
        "Status: {{ ticket.status }}   Assignee: {{ ticket.assignee|default:'nobody' }}\n",
        "<p><strong>{{ sla.text }}</strong></p>\n<p>{{ ticket.number }} — {{ ticket.title }}</p>\n"
        "<p>Priority: {{ ticket.priority }} · Status: {{ ticket.status }} · Assignee: "
        "{{ ticket.assignee|default:'nobody' }}</p>",
    ),
}

_DE = {
    NotificationEvent.CREATED: (
        "[{{ ticket.number }}] {{ ticket.title }}",
        "Hallo {{ recipient.name }},\n\n{{ actor.name }} hat {{ ticket.number }} für Sie erfasst: "
        "{{ ticket.title }}.\nWir halten Sie hier auf dem Laufenden.\n",
        "<p>Hallo {{ recipient.name }},</p>\n<p>{{ actor.name }} hat <strong>{{ ticket.number }}</strong> für Sie "
        "erfasst: {{ ticket.title }}.</p>\n<p>Wir halten Sie hier auf dem Laufenden.</p>",
    ),
    NotificationEvent.REPLY: (
        "Re: [{{ ticket.number }}] {{ ticket.title }}",
        "{{ actor.name }} schrieb zu {{ ticket.number }}:\n\n{{ reply.text }}\n",
        "<p><strong>{{ actor.name }}</strong> schrieb zu {{ ticket.number }}:</p>\n"
        '<div style="border-left:3px solid #dee2e6;padding-left:12px">{{ reply.html }}</div>',
    ),
    NotificationEvent.ASSIGNED: (
        "[{{ ticket.number }}] zugewiesen an {% if ticket.assignee %}Sie{% else %}{{ ticket.team }}{% endif %}: "
        "{{ ticket.title }}",
        "{{ ticket.number }} — {{ ticket.title }}\n"
        "{% if ticket.assignee %}{{ actor.name }} hat es Ihnen zugewiesen{% else %}Es wartet in der Queue von "
        "{{ ticket.team }}{% endif %}.\nPriorität: {{ ticket.priority }}   Status: {{ ticket.status }}\n"
        "Melder: {{ ticket.requester }}\n",
        "<p><strong>{{ ticket.number }}</strong> — {{ ticket.title }}</p>\n"
        "<p>{% if ticket.assignee %}{{ actor.name }} hat es Ihnen zugewiesen{% else %}Es wartet in der Queue von "
        "{{ ticket.team }}{% endif %}.</p>\n"
        "<p>Priorität: {{ ticket.priority }} · Status: {{ ticket.status }} · Melder: {{ ticket.requester }}</p>",
    ),
    NotificationEvent.STATUS: (
        "[{{ ticket.number }}] Status {{ ticket.status }}: {{ ticket.title }}",
        "Hallo {{ recipient.name }},\n\n{{ ticket.number }} ({{ ticket.title }}) hat jetzt den Status "
        "„{{ ticket.status }}“.{% if note.text %}\n\n{{ note.text }}{% endif %}\n",
        "<p>Hallo {{ recipient.name }},</p>\n<p>{{ ticket.number }} ({{ ticket.title }}) hat jetzt den Status "
        "<strong>{{ ticket.status }}</strong>.</p>{% if note.html %}\n<div>{{ note.html }}</div>{% endif %}",
    ),
    NotificationEvent.RESOLVED: (
        "[{{ ticket.number }}] gelöst: {{ ticket.title }}",
        "Hallo {{ recipient.name }},\n\n{{ ticket.number }} ({{ ticket.title }}) ist gelöst."
        "{% if note.text %}\n\n{{ note.text }}{% endif %}\n\nFalls nicht, antworten Sie und wir öffnen es wieder.\n",
        "<p>Hallo {{ recipient.name }},</p>\n<p>{{ ticket.number }} ({{ ticket.title }}) ist "
        "<strong>gelöst</strong>.</p>{% if note.html %}\n<div>{{ note.html }}</div>{% endif %}\n"
        "<p>Falls nicht, antworten Sie und wir öffnen es wieder.</p>",
    ),
    NotificationEvent.SLA_WARNING: (
        "[{{ ticket.number }}] Service-Level: {{ ticket.title }}",
        "{{ sla.text }}\n\n{{ ticket.number }} — {{ ticket.title }}\nPriorität: {{ ticket.priority }}   "
        "Status: {{ ticket.status }}   Bearbeiter: {{ ticket.assignee|default:'niemand' }}\n",
        "<p><strong>{{ sla.text }}</strong></p>\n<p>{{ ticket.number }} — {{ ticket.title }}</p>\n"
        "<p>Priorität: {{ ticket.priority }} · Status: {{ ticket.status }} · Bearbeiter: "
        "{{ ticket.assignee|default:'niemand' }}</p>",
    ),
}


def _complete(table: dict, footer_text: str, footer_html: str) -> dict[str, dict[str, str]]:
    return {
        str(event): {"subject": subject, "body_text": text + footer_text, "body_html": html + footer_html}
        for event, (subject, text, html) in table.items()
    }


DEFAULTS: dict[str, dict[str, dict[str, str]]] = {
    "en": _complete(_EN, _FOOTER_TEXT, _FOOTER_HTML),
    "de": _complete(_DE, _FOOTER_TEXT_DE, _FOOTER_HTML_DE),
}


def default_template(event: str, language: str) -> dict[str, str]:
    """The shipped subject and bodies of ``event`` in ``language`` (English where not translated)."""
    return (
        DEFAULTS.get(language, DEFAULTS[FALLBACK_LANGUAGE]).get(event) or DEFAULTS[FALLBACK_LANGUAGE][event]
    )
