"""Forms of the notification screens: a template (checked with the sandbox before it is
saved) and a person's notification choices."""

from __future__ import annotations

from django import forms

from opsdesk.notifications import rendering, selectors
from opsdesk.notifications.choices import NotificationEvent
from opsdesk.notifications.constants import MAX_BODY_TEMPLATE, MAX_SUBJECT_TEMPLATE

EVENT_HELP = {
    NotificationEvent.CREATED: "A ticket was logged for you by the service desk.",
    NotificationEvent.REPLY: "Someone answered on a ticket of yours (never internal notes).",
    NotificationEvent.ASSIGNED: "A ticket was given to you, or to your team with nobody assigned.",
    NotificationEvent.STATUS: "A ticket of yours moved to another status.",
    NotificationEvent.RESOLVED: "A ticket of yours was resolved.",
    NotificationEvent.SLA_WARNING: "A ticket of yours (or your team's) nears or misses its service level.",
}
VARIABLES_HELP = (
    "Variables: {{ ticket.number }}, {{ ticket.title }}, {{ ticket.status }}, {{ ticket.priority }}, "
    "{{ ticket.url }}, {{ ticket.requester }}, {{ ticket.team }}, {{ ticket.assignee }}, {{ actor.name }}, "
    "{{ recipient.name }}, {{ reply.text }} / {{ reply.html }}, {{ note.text }} / {{ note.html }}, "
    "{{ sla.text }}, {{ desk.name }}, {{ preferences_url }}. Tags: if, for, with, firstof, comment, now."
)


class TemplateForm(forms.Form):
    subject = forms.CharField(
        max_length=MAX_SUBJECT_TEMPLATE, help_text="One line; the ticket tag [INC…] is added when missing."
    )
    body_html = forms.CharField(
        label="HTML body",
        max_length=MAX_BODY_TEMPLATE,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
        help_text="Values are escaped; {{ reply.html }} and {{ note.html }} are sanitized HTML.",
    )
    body_text = forms.CharField(
        label="Text body",
        max_length=MAX_BODY_TEMPLATE,
        widget=forms.Textarea(attrs={"rows": 10, "class": "font-monospace"}),
        help_text=VARIABLES_HELP,
    )

    def clean(self):
        data = super().clean()
        if all(data.get(name) for name in ("subject", "body_html", "body_text")):
            for problem in rendering.template_problems(data):
                self.add_error(problem.field, str(problem))
        return data


class PreferencesForm(forms.Form):
    """One tick per notification the person can get, preset with what applies to them now."""

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = selectors.preferences_for(user)
        for event in selectors.events_for(user):
            self.fields[event] = forms.BooleanField(
                label=NotificationEvent(event).label,
                required=False,
                initial=current[event],
                help_text=EVENT_HELP[NotificationEvent(event)],
            )
