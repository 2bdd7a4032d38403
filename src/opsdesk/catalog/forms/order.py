"""The order form of one catalogue item, built from the item's form definition.

Django's fields here only shape the input (widgets, types); the rules are ``formspec``'s:
``clean()`` hands the answers to ``formspec.answers_clean`` and shows its refusals on the
fields they name. A field is required only while it is shown, so Django's own "required"
check is off; the browser's ``required`` attribute stays on unconditional required fields.
Conditional fields carry ``data-show-if-field`` / ``data-show-if-in`` for order_form.js.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.forms.boundfield import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from opsdesk.accounts.models import User
from opsdesk.catalog.choices import FieldType
from opsdesk.catalog.constants import MAX_TEXT_ANSWER
from opsdesk.catalog.formspec import answers_clean, form_validate
from opsdesk.catalog.models import CatalogItem
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.uploads import UPLOAD_TYPES
from opsdesk.portfolio.choices import Stage
from opsdesk.portfolio.models import Service

# Drop-downs of people and services stay short enough to render; there is no autocomplete.
MAX_PEOPLE_LISTED = 200
MAX_SERVICES_LISTED = 500
LONG_TEXT_ROWS = 4
REQUESTED_FOR = "requested_for"


class AnswerBoundField(BoundField):
    """A field of the order form that knows its condition, for the template's wrapper."""

    @property
    def show_if(self) -> dict | None:
        return getattr(self.field, "show_if", None)

    @property
    def wrapper_attrs(self) -> SafeString:
        """``data-show-if-field`` / ``data-show-if-in`` for the element wrapping the field
        (empty for an unconditional field); order_form.js shows the wrapper while it matches."""
        condition = self.show_if
        if not condition:
            return mark_safe("")
        return format_html(
            ' data-show-if-field="{}" data-show-if-in="{}"', condition["field"], json.dumps(condition["in"])
        )

    def build_widget_attrs(self, attrs: dict, widget: Any = None) -> dict:
        attrs = super().build_widget_attrs(attrs, widget)
        if self.show_if:
            # Required only while shown: without JavaScript the browser cannot know when.
            attrs.pop("required", None)
        return attrs


class _Answer:
    """A field whose emptiness formspec judges (required only when visible)."""

    show_if: dict | None = None
    bound_field_class = AnswerBoundField

    def validate(self, value: Any) -> None:
        if value in self.empty_values:
            return
        super().validate(value)


class AnswerCharField(_Answer, forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # NUL characters are stripped by formspec rather than refused: pasted text carries them.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class AnswerChoiceField(_Answer, forms.ChoiceField):
    pass


class AnswerMultipleChoiceField(_Answer, forms.MultipleChoiceField):
    pass


class AnswerDateField(_Answer, forms.DateField):
    pass


class AnswerFileField(_Answer, forms.FileField):
    pass


class PersonChoiceField(forms.ChoiceField):
    """A drop-down of the people listed; ``also_valid`` may accept someone beyond the list
    (agents order for anyone, but only a bounded list is rendered)."""

    def __init__(self, *, also_valid: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.also_valid = also_valid

    def valid_value(self, value: Any) -> bool:
        if super().valid_value(value):
            return True
        return bool(self.also_valid and str(value).isdigit() and self.also_valid(int(value)))


class OrderForm(forms.Form):
    """The questions of ``item`` plus who the order is for. After ``is_valid()``,
    ``cleaned_answers`` / ``cleaned_files`` are what ``request_order`` takes and
    ``cleaned_data["requested_for"]`` is the person (a ``User``)."""

    bound_field_class = AnswerBoundField

    def __init__(self, item: CatalogItem, *, requester: User, data: Any = None, files: Any = None) -> None:
        super().__init__(data=data, files=files)
        self.item = item
        self.requester = requester
        try:
            self.definition = form_validate(item.form or [])
            self.definition_error = ""
        except ServiceError as exc:
            # Saved forms are checked on save; one that no longer passes (older rules) must not
            # break the item's page: it shows, and ordering is refused with the reason.
            self.definition, self.definition_error = [], exc.message
        self._people_choices: list[tuple[str, str]] | None = None
        self._service_choices: list[tuple[str, str]] | None = None
        self._answers: dict | None = None
        self._files: dict | None = None
        for spec in self.definition:
            field = self._field_for(spec)
            field.show_if = spec.get("show_if")
            self.fields[spec["key"]] = field
        self.fields[REQUESTED_FOR] = self._requested_for_field()

    # --- building -------------------------------------------------------------------------
    def _field_for(self, spec: dict) -> forms.Field:
        common: dict[str, Any] = {
            "label": spec["label"],
            "required": spec["required"],
            "help_text": spec.get("help", ""),
        }
        placeholder = {"placeholder": spec["placeholder"]} if spec.get("placeholder") else {}
        field_type = spec["type"]
        if field_type in (FieldType.TEXT, FieldType.LONG_TEXT):
            attrs = {**placeholder, "maxlength": spec.get("max_length", MAX_TEXT_ANSWER)}
            widget = (
                forms.Textarea(attrs={**attrs, "rows": LONG_TEXT_ROWS})
                if field_type == FieldType.LONG_TEXT
                else forms.TextInput(attrs=attrs)
            )
            return AnswerCharField(widget=widget, **common)
        if field_type == FieldType.NUMBER:
            attrs = {**placeholder, "step": "1" if spec.get("integer") else "any", "inputmode": "decimal"}
            attrs.update({bound: spec[bound] for bound in ("min", "max") if bound in spec})
            # The text goes to formspec as typed, which parses and bounds it.
            return AnswerCharField(widget=forms.NumberInput(attrs=attrs), **common)
        if field_type == FieldType.CHOICE:
            choices = [("", "Choose…"), *((choice, choice) for choice in spec["choices"])]
            return AnswerChoiceField(choices=choices, **common)
        if field_type == FieldType.MULTI_CHOICE:
            choices = [(choice, choice) for choice in spec["choices"]]
            return AnswerMultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
        if field_type == FieldType.DATE:
            widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            return AnswerDateField(widget=widget, input_formats=["%Y-%m-%d"], **common)
        if field_type == FieldType.USER:
            if self.requester.is_agent:
                hint = f"Lists up to {MAX_PEOPLE_LISTED} active people of your organisation."
                common["help_text"] = f"{common['help_text']} {hint}".strip()
            return AnswerChoiceField(choices=[("", "Choose someone…"), *self._people()], **common)
        if field_type == FieldType.SERVICE:
            return AnswerChoiceField(choices=[("", "Choose a service…"), *self._services()], **common)
        accept = ",".join(sorted(UPLOAD_TYPES))
        return AnswerFileField(widget=forms.FileInput(attrs={"accept": accept}), **common)

    def _people(self) -> list[tuple[str, str]]:
        """People the requester may name in a "person" answer: those they may see, active;
        for staff (who see everyone) the people of their own organisation. One query."""
        if self._people_choices is None:
            people = User.objects.restrict(self.requester, "view").filter(is_active=True)
            if self.requester.is_agent and self.requester.organization_id:
                people = people.filter(organization_id=self.requester.organization_id)
            self._people_choices = _person_choices(people)
        return self._people_choices

    def _services(self) -> list[tuple[str, str]]:
        """Services in the catalogue (not planned, not retired), by name. One query."""
        if self._service_choices is None:
            services = (
                Service.objects.restrict(self.requester, "view")
                .filter(stage=Stage.CATALOGUE)
                .order_by("name")
                .values_list("pk", "name")[:MAX_SERVICES_LISTED]
            )
            self._service_choices = [(str(pk), name) for pk, name in services]
        return self._service_choices

    def _requested_for_field(self) -> forms.Field:
        """Who the order is for: oneself; colleagues of one's organisation when the item
        allows ordering on behalf; anyone for staff (a bounded list is shown)."""
        me = self.requester
        self.on_behalf = me.is_agent or bool(self.item.allow_on_behalf and me.organization_id)
        field_kwargs: dict[str, Any] = {"label": "Order for", "required": False, "initial": str(me.pk)}
        if not self.on_behalf:
            return PersonChoiceField(
                choices=[(str(me.pk), str(me))], widget=forms.HiddenInput, **field_kwargs
            )
        candidates = User.objects.filter(is_active=True).exclude(pk=me.pk)
        if me.is_agent:
            also_valid = candidates.restrict(me, "view").filter
            hint = f"Lists up to {MAX_PEOPLE_LISTED} people; the order is raised for them."
        else:
            candidates = candidates.filter(organization_id=me.organization_id)
            also_valid = None
            hint = "You may order it for a colleague of your organisation."
        choices = [(str(me.pk), f"Myself ({me})"), *_person_choices(candidates, limit=MAX_PEOPLE_LISTED - 1)]
        return PersonChoiceField(
            choices=choices,
            also_valid=(lambda pk: also_valid(pk=pk).exists()) if also_valid else None,
            help_text=hint,
            **field_kwargs,
        )

    # --- cleaning -------------------------------------------------------------------------
    def clean_requested_for(self) -> User:
        value = self.cleaned_data.get(REQUESTED_FOR)
        if not value or str(value) == str(self.requester.pk):
            return self.requester
        person = User.objects.filter(pk=int(value), is_active=True).first()
        if person is None:
            raise forms.ValidationError("Choose someone from the list.")
        return person

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.definition_error:
            self.add_error(
                None, f"This item's form needs repair by the service desk: {self.definition_error}"
            )
            return cleaned
        data: dict[str, Any] = {}
        uploads: dict[str, Any] = {}
        for spec in self.definition:
            key = spec["key"]
            if key in self.errors or key not in cleaned:
                continue
            value = cleaned[key]
            if spec["type"] == FieldType.ATTACHMENT:
                if value:
                    uploads[key] = value
            elif value not in (None, "", []):
                data[key] = value.isoformat() if spec["type"] == FieldType.DATE else value
        try:
            self._answers, self._files = answers_clean(
                self.definition, data, uploads, requester=self.requester
            )
        except ServiceError as exc:
            for key, messages in (exc.errors or {None: [exc.message]}).items():
                target = key if key in self.fields else None
                if target is not None and target in self.errors:
                    continue
                for message in messages:
                    self.add_error(target, message)
        if self.errors:
            # Half-valid answers must not reach a service: nothing is cleaned until all is.
            self._answers = self._files = None
        return cleaned

    @property
    def cleaned_answers(self) -> dict[str, Any]:
        """The answers without attachments, cleaned by formspec (after ``is_valid()``)."""
        if self._answers is None:
            raise ValueError("The order form has no valid answers yet: call is_valid() first.")
        return self._answers

    @property
    def cleaned_files(self) -> dict[str, Any]:
        """The uploaded files by field key, checked by formspec (after ``is_valid()``)."""
        if self._files is None:
            raise ValueError("The order form has no valid answers yet: call is_valid() first.")
        return self._files


def _person_choices(people: Any, *, limit: int = MAX_PEOPLE_LISTED) -> list[tuple[str, str]]:
    rows = people.order_by("first_name", "last_name", "username").values_list(
        "pk", "first_name", "last_name", "username"
    )[:limit]
    return [(str(pk), f"{first} {last}".strip() or username) for pk, first, last, username in rows]
