"""The forms of the service-level screens: a policy (what it covers, its calendar, when its
clock pauses, its warning thresholds) and one of its targets."""

from __future__ import annotations

import re

from django import forms

from opsdesk.sla.choices import MAX_TARGET_MINUTES
from opsdesk.sla.models import SlaPolicy, SlaTarget
from opsdesk.tickets.choices import PendingReason, Priority, TicketType

_SEPARATORS = re.compile(r"[\s,;%]+")


class ThresholdsField(forms.CharField):
    """Warning thresholds typed as ``50, 75, 90`` (100, the breach, is always added)."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        parts = [part for part in _SEPARATORS.split(text or "") if part]
        if not parts:
            raise forms.ValidationError("Give at least one percentage, e.g. 50, 75, 90, 100.")
        numbers = []
        for part in parts:
            if not part.isdigit() or not 1 <= int(part) <= 100:
                raise forms.ValidationError(f"{part!r} is not a whole percentage from 1 to 100.")
            numbers.append(int(part))
        return sorted(set(numbers) | {100})


class PolicyForm(forms.ModelForm):
    ticket_types = forms.MultipleChoiceField(
        label="Ticket types",
        choices=TicketType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked = every type.",
    )
    priorities = forms.TypedMultipleChoiceField(
        choices=Priority.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked = every priority.",
    )
    pause_reasons = forms.MultipleChoiceField(
        label="Pause the clock while pending",
        choices=PendingReason.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The clock stops while the ticket waits for one of these reasons.",
    )
    thresholds = ThresholdsField(
        label="Warning thresholds (%)",
        initial="50, 75, 90, 100",
        help_text="Percentages of a target at which warnings fire; 100 is the breach.",
    )

    class Meta:
        model = SlaPolicy
        fields = (
            "name",
            "kind",
            "description",
            "is_active",
            "position",
            "calendar",
            "ticket_types",
            "priorities",
            "services",
            "organizations",
            "categories",
            "team",
            "provider",
            "pause_reasons",
            "on_reopen",
            "thresholds",
        )
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"is_active": "Active", "on_reopen": "When a resolved ticket is reopened"}
        help_texts = {
            "team": "OLA only: the team whose work it times.",
            "provider": "UC only: the provider whose work it times.",
            "services": "Empty = every service.",
            "organizations": "Empty = every organisation.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["pause_reasons"].initial = [PendingReason.REQUESTER.value]
        for name in ("services", "organizations", "categories"):
            self.fields[name].widget.attrs["size"] = 6

    def service_data(self) -> dict:
        """What ``policy_save`` takes: the fields, and the M2M criteria as lists of records."""
        data = dict(self.cleaned_data)
        for name in ("services", "organizations", "categories"):
            data[name] = list(data.get(name) or [])
        return data


class TargetForm(forms.ModelForm):
    minutes = forms.IntegerField(
        label="Business minutes",
        help_text="Counted on the policy's calendar, e.g. 240 for four business hours.",
    )

    class Meta:
        model = SlaTarget
        fields = ("policy", "metric", "priority", "minutes")
        widgets = {"policy": forms.HiddenInput}
        labels = {"priority": "For priority"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].choices = [("", "Every priority"), *Priority.choices]
        if self.instance.pk:
            # A target stays with its policy.
            self.fields["policy"].disabled = True

    def clean_minutes(self):
        minutes = self.cleaned_data["minutes"]
        if not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise forms.ValidationError(
                f"A target is a whole number of business minutes from 1 to {MAX_TARGET_MINUTES}."
            )
        return minutes
