"""The forms of the e-mail intake screens: a mailbox (secrets write-only) and the filters of the
inbound message list."""

from __future__ import annotations

import django_filters
from django import forms

from opsdesk.mail.choices import InboundStatus
from opsdesk.mail.models import InboundMessage, Mailbox

SECRET_FIELDS = ("password", "oauth2_token")
KEEP_HELP = "Stored; leave blank to keep it, or type a new one to replace it."

# Grouped on the form: what every mailbox needs, then the IMAP connection.
GENERAL_FIELDS = ("name", "address", "kind", "is_active", "team", "service", "ticket_type")
IMAP_FIELDS = (
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_auth",
    "username",
    "password",
    "oauth2_token",
    "folder",
    "after_processing",
    "processed_folder",
)


class MailboxForm(forms.ModelForm):
    """A mailbox. The password and the OAuth2 token are never sent back to the browser: on an
    edit a blank one keeps the stored secret (``services.mailbox_save`` drops it)."""

    password = forms.CharField(
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="For password sign-in.",
    )
    oauth2_token = forms.CharField(
        label="OAuth2 access token",
        required=False,
        max_length=8000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="For XOAUTH2 sign-in (Microsoft 365, Google Workspace).",
    )

    class Meta:
        model = Mailbox
        fields = GENERAL_FIELDS + IMAP_FIELDS
        labels = {"is_active": "Active", "ticket_type": "Ticket type", "kind": "Kind"}
        help_texts = {
            "kind": "IMAP: OpsDesk polls a mailbox every minute. Built-in receiver: your mail server "
            "delivers to OpsDesk (OPSDESK_SMTP_LISTEN).",
            "team": "New tickets from this mailbox go to this team.",
            "imap_host": "IMAP mailboxes only.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_secrets = {
            name: bool(self.instance.pk and getattr(self.instance, name)) for name in SECRET_FIELDS
        }
        for name, stored in self.stored_secrets.items():
            if stored:
                self.fields[name].help_text = f"{self.fields[name].help_text} {KEEP_HELP}"
                self.fields[name].widget.attrs["placeholder"] = "•••••••• (stored)"

    def general_fields(self):
        return [self[name] for name in GENERAL_FIELDS]

    def imap_fields(self):
        return [self[name] for name in IMAP_FIELDS]

    def clean_address(self):
        return (self.cleaned_data.get("address") or "").strip().lower()

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip()

    def _post_clean(self):
        # The model's checks need the secret it will have: a blank one on an edit keeps the stored.
        typed = {name: self.cleaned_data.get(name) for name in SECRET_FIELDS}
        for name in SECRET_FIELDS:
            if not typed[name] and self.stored_secrets[name]:
                self.cleaned_data[name] = getattr(self.instance, name)
        super()._post_clean()
        for name in SECRET_FIELDS:
            if name in self.cleaned_data:
                self.cleaned_data[name] = typed[name] or ""


class InboundMessageFilterSet(django_filters.FilterSet):
    mailbox = django_filters.ModelChoiceFilter(queryset=Mailbox.objects.all())
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices)
    sender = django_filters.CharFilter(
        field_name="from_address", lookup_expr="icontains", max_length=320, label="Sender"
    )
    received_from = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__gte", label="Received from"
    )
    received_until = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__lte", label="Received until"
    )

    class Meta:
        model = InboundMessage
        fields = ("mailbox", "status", "sender", "received_from", "received_until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("received_from", "received_until"):
            self.form.fields[name].widget = forms.DateInput(attrs={"type": "date"})
