"""The forms of the webhook screens: a source (settings and payload mapping), the secret's
rotation, and the filters of the delivery list."""

from __future__ import annotations

import json

from django import forms

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import User
from opsdesk.webhooks.models import WebhookSource
from opsdesk.webhooks.payload_mapping import field_map_errors, value_map_errors


class JsonObjectField(forms.CharField):
    """A JSON object typed into a text area, shown pretty-printed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", forms.Textarea(attrs={"rows": 7, "class": "font-monospace", "spellcheck": "false"})
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return {}
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Give a JSON object ({…}).")
        return parsed


class SourceForm(forms.ModelForm):
    field_map = JsonObjectField(
        label="Field map",
        help_text=WebhookSource._meta.get_field("field_map").help_text,
    )
    value_map = JsonObjectField(
        label="Value map",
        required=False,
        help_text=WebhookSource._meta.get_field("value_map").help_text,
    )

    class Meta:
        model = WebhookSource
        fields = (
            "name",
            "slug",
            "description",
            "is_active",
            "require_timestamp",
            "account",
            "ticket_type",
            "channel",
            "team",
            "service",
            "category",
            "impact",
            "urgency",
            "field_map",
            "value_map",
            "update_visibility",
        )
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"is_active": "Active", "require_timestamp": "Require a signed timestamp"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only accounts that can do the work are offered (the model says why others are refused).
        self.fields["account"].queryset = User.objects.filter(is_active=True).exclude(
            role__in=(Role.REQUESTER, Role.AUDITOR)
        )

    def clean_field_map(self):
        value = self.cleaned_data["field_map"]
        if errors := field_map_errors(value):
            raise forms.ValidationError(errors)
        return value

    def clean_value_map(self):
        value = self.cleaned_data["value_map"]
        if errors := value_map_errors(value):
            raise forms.ValidationError(errors)
        return value


class RotateForm(forms.Form):
    keep_previous = forms.BooleanField(
        label="Keep the old secret working for 24 hours",
        required=False,
        help_text="So the sender can switch over without refused deliveries. Leave unticked if the old "
        "secret may have leaked.",
    )
