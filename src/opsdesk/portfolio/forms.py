"""Web forms for the service portfolio. They collect and tidy input; services decide.

Lists stored as JSON (channels, languages, working hours, closures) get friendly widgets
here, so nobody types JSON into a web page.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from opsdesk.accounts.forms import staff_people, time_zone_choices
from opsdesk.accounts.models import Team
from opsdesk.portfolio.choices import STAGE_TRANSITIONS, Channel, Stage
from opsdesk.portfolio.models import (
    BusinessCalendar,
    BusinessObjective,
    Contract,
    Kpi,
    Offering,
    Provider,
    ProviderContact,
    Service,
    ServiceLocation,
    ServiceObjective,
    ServiceSupportTier,
    SupportPolicy,
    SupportPolicyVersion,
)
from opsdesk.portfolio.models.calendars import WEEKDAY_KEYS, validate_date_list, validate_working_hours
from opsdesk.portfolio.models.sourcing import MAX_SCORE

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WEEKDAY_LABELS = dict(
    zip(
        WEEKDAY_KEYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,;\n]", value or "") if item.strip()]


class ListField(forms.CharField):
    """A list typed as comma-separated words (languages: ``en, de``)."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return _split_list(super().to_python(value))


class DateListField(forms.CharField):
    """Dates, one per line (closures, extra working days)."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "2025-12-24"})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        dates = _split_list(super().to_python(value))
        validate_date_list(dates)
        return dates


# --- services -------------------------------------------------------------------------------------
class ServiceForm(forms.ModelForm):
    depends_on = forms.ModelMultipleChoiceField(
        Service.objects.all(),
        required=False,
        help_text="Services this one needs to work. Hold Ctrl (⌘ on a Mac) to pick several.",
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="How people ask for help with it.",
    )
    support_languages = ListField(required=False, help_text="Language codes, e.g. en, de, pt-BR.")

    class Meta:
        model = Service
        fields = (
            "name",
            "description",
            "type",
            "stage",
            "owner",
            "criticality",
            "service_hours",
            "depends_on",
            "channels",
            "service_levels",
            "delivery_type",
            "support_mode",
            "support_languages",
            "escalation_teams",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "service_levels": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"service_hours": "Service hours (calendar)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_people()
        if self.instance.pk:
            # The stage moves only through the stage action, which keeps its history.
            self.fields.pop("stage")
            self.fields["depends_on"].queryset = Service.objects.exclude(pk=self.instance.pk)
            self.initial["depends_on"] = list(self.instance.depends_on.values_list("pk", flat=True))
        else:
            self.fields["stage"].choices = [(Stage.PIPELINE, "Pipeline"), (Stage.CATALOGUE, "Catalogue")]
            self.fields["stage"].help_text = "New services usually start in the pipeline."


class StageChangeForm(forms.Form):
    """Only the stages the lifecycle allows from where the service is now."""

    to_stage = forms.ChoiceField(label="Move to")
    effective = forms.DateField(required=False, widget=DATE_INPUT, help_text="Today if empty.")
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = STAGE_TRANSITIONS[Stage(service.stage)]
        self.fields["to_stage"].choices = [(stage.value, stage.label) for stage in Stage if stage in allowed]


class ServicePartForm(forms.ModelForm):
    """Parts of one service: the service is chosen by the page, not in the form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].widget = forms.HiddenInput()


class OfferingForm(ServicePartForm):
    class Meta:
        model = Offering
        fields = (
            "service",
            "name",
            "description",
            "included",
            "cost",
            "price",
            "currency",
            "period",
            "locations",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "included": forms.Textarea(attrs={"rows": 3}),
        }


class SupportTierForm(ServicePartForm):
    class Meta:
        model = ServiceSupportTier
        fields = ("service", "tier", "team", "staffed_by")


class ServiceLocationForm(ServicePartForm):
    class Meta:
        model = ServiceLocation
        fields = ("service", "location", "delivery", "on_site_team")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on_site_team"].queryset = Team.objects.all()
        self.fields["on_site_team"].help_text = "Needed when a team is on site."


class ServiceObjectiveForm(ServicePartForm):
    class Meta:
        model = ServiceObjective
        fields = ("service", "objective", "alignment", "note")


# --- objectives ---------------------------------------------------------------------------------
class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = BusinessObjective
        fields = ("name", "kind", "description", "owner", "period_start", "period_end")
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "period_start": DATE_INPUT,
            "period_end": DATE_INPUT,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_people()


class KpiForm(forms.ModelForm):
    class Meta:
        model = Kpi
        fields = ("objective", "name", "unit", "target", "actual", "direction")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].widget = forms.HiddenInput()


# --- calendars ----------------------------------------------------------------------------------
class CalendarForm(forms.ModelForm):
    """Working hours as one line per weekday (``08:00–12:00, 13:00–17:00``; empty = closed)."""

    closures = DateListField(required=False, help_text="Days the service is closed, one date per line.")
    extra_working_days = DateListField(
        required=False, help_text="Days it works although they are normally off, one date per line."
    )

    class Meta:
        model = BusinessCalendar
        fields = (
            "name",
            "time_zone",
            "holiday_country",
            "holiday_subdivision",
            "closures",
            "extra_working_days",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = forms.ChoiceField(choices=time_zone_choices(), initial="UTC")
        hours = self.instance.working_hours if self.instance.pk else BusinessCalendar().working_hours
        for key in WEEKDAY_KEYS:
            self.fields[f"hours_{key}"] = forms.CharField(
                label=WEEKDAY_LABELS[key],
                required=False,
                initial=", ".join(f"{start}–{end}" for start, end in hours.get(key, [])),
                widget=forms.TextInput(attrs={"placeholder": "closed"}),
                help_text="e.g. 08:00–12:00, 13:00–17:00" if key == "mon" else "",
            )

    def clean(self):
        cleaned = super().clean()
        week: dict[str, list[list[str]]] = {}
        for key in WEEKDAY_KEYS:
            intervals = []
            for part in _split_list(cleaned.get(f"hours_{key}", "")):
                match = _INTERVAL.match(part)
                if not match:
                    self.add_error(f"hours_{key}", f"{part!r}: write a range as 08:00–17:00.")
                    break
                intervals.append([clock.zfill(5) for clock in match.groups()])
            week[key] = intervals
        try:
            validate_working_hours(week)
        except ValidationError as exc:
            self.add_error(None, exc)
        cleaned["working_hours"] = week
        return cleaned

    def field_groups(self):
        return [self[name] for name in self.fields if not name.startswith("hours_")], [
            self[f"hours_{key}"] for key in WEEKDAY_KEYS
        ]


# --- support policies ----------------------------------------------------------------------------
class PolicyForm(forms.ModelForm):
    class Meta:
        model = SupportPolicy
        fields = ("name", "services")
        help_texts = {"services": "The services this policy applies to."}


class PolicyVersionForm(forms.ModelForm):
    class Meta:
        model = SupportPolicyVersion
        fields = ("effective_from", "support_hours", "coverage", "priority_definitions", "escalation_rules")
        widgets = {
            "effective_from": DATE_INPUT,
            "support_hours": forms.Textarea(attrs={"rows": 3}),
            "coverage": forms.Textarea(attrs={"rows": 4}),
            "priority_definitions": forms.Textarea(attrs={"rows": 4}),
            "escalation_rules": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {"effective_from": "Requesters see it from this day, once published."}


# --- providers and contracts ---------------------------------------------------------------------
class ProviderForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Provider
        fields = ("name", "kind", "website", "email", "phone", "services", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ProviderContactForm(forms.ModelForm):
    class Meta:
        model = ProviderContact
        fields = ("provider", "name", "role", "email", "phone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].widget = forms.HiddenInput()


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = (
            "provider",
            "reference",
            "owner",
            "start_date",
            "end_date",
            "notice_period_days",
            "auto_renew",
            "reminder_days",
            "cost",
            "currency",
            "cost_period",
            "services",
            "offerings",
            "notes",
        )
        widgets = {
            "start_date": DATE_INPUT,
            "end_date": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_people()
        self.fields["offerings"].queryset = Offering.objects.select_related("service")


class ContractDocumentForm(forms.Form):
    file = forms.FileField(label="Attach a document", help_text="PDF, office documents, text or images.")


# --- sourcing evaluations -------------------------------------------------------------------------
class EvaluationForm(forms.Form):
    name = forms.CharField(max_length=150)
    service = forms.ModelChoiceField(
        Service.objects.all(), required=False, help_text="What is being sourced."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    providers = forms.ModelMultipleChoiceField(
        Provider.objects.all(), required=False, label="Candidates", help_text="The providers to compare."
    )


class CriteriaForm(forms.Form):
    """The evaluation's criteria as rows of name and weight; a few blank rows add new ones."""

    EXTRA_ROWS = 2

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.row_count = len(criteria) + self.EXTRA_ROWS
        for index in range(self.row_count):
            existing = criteria[index] if index < len(criteria) else None
            self.fields[f"name_{index}"] = forms.CharField(
                required=False, max_length=100, label="Criterion", initial=existing.name if existing else ""
            )
            self.fields[f"weight_{index}"] = forms.DecimalField(
                required=False,
                min_value=Decimal("0"),
                max_digits=6,
                decimal_places=2,
                label="Weight",
                initial=existing.weight if existing else None,
            )

    def rows(self):
        return [(self[f"name_{index}"], self[f"weight_{index}"]) for index in range(self.row_count)]

    def criteria(self) -> list[tuple[str, Decimal]]:
        """Filled rows only; a name without a weight counts as weight 0 (listed, not counted)."""
        result = []
        for index in range(self.row_count):
            name = self.cleaned_data.get(f"name_{index}", "").strip()
            if name:
                result.append((name, self.cleaned_data.get(f"weight_{index}") or Decimal("0")))
        return result


class ScoreGridForm(forms.Form):
    """One score box per candidate and criterion, 0 to 10; empty means not scored yet."""

    def __init__(self, *args, candidates=(), criteria=(), scores=None, **kwargs):
        super().__init__(*args, **kwargs)
        scores = scores or {}
        for candidate in candidates:
            for criterion in criteria:
                self.fields[self.key(candidate, criterion)] = forms.DecimalField(
                    required=False,
                    min_value=Decimal("0"),
                    max_value=Decimal(MAX_SCORE),
                    max_digits=4,
                    decimal_places=1,
                    label=f"{candidate.provider} — {criterion.name}",
                    initial=scores.get((candidate.pk, criterion.pk)),
                    widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "max": str(MAX_SCORE)}),
                )

    @staticmethod
    def key(candidate, criterion) -> str:
        return f"score_{candidate.pk}_{criterion.pk}"


class DecisionForm(forms.Form):
    provider = forms.ModelChoiceField(Provider.objects.none(), label="Chosen provider")
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why this provider.")

    def __init__(self, *args, evaluation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(evaluations__evaluation=evaluation)


# --- CSV import -----------------------------------------------------------------------------------
class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, with a header line naming the columns.")
