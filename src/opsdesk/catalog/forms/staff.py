"""The staff's editors of the catalogue: an item (with its order form as JSON the form builder
edits), its approval steps and task plan (formsets, one row per step or task), categories,
approval groups, and the fulfilment task's actions.

The forms only shape input; the services (``catalog.services.items`` / ``fulfilment``) judge it
and their refusals come back on the field or row they name."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.forms import formset_factory

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Organization, Team, User
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.constants import (
    DEFAULT_ESCALATE_AFTER_HOURS,
    DEFAULT_REMIND_AFTER_HOURS,
    MAX_APPROVAL_STEPS,
    MAX_TASKS,
)
from opsdesk.catalog.models import ApprovalGroup, CatalogCategory, CatalogItem, TaskTemplate
from opsdesk.core.exceptions import ServiceError
from opsdesk.portfolio.models import Offering
from opsdesk.tickets.models import Category

# Rows in a formset beyond the saved ones, so a step or a task can be added without JavaScript.
EXTRA_ROWS = 1
# The services name the row at fault at the start of the message: "Step 2: …", "Task 1: …".
ROW_MESSAGE = re.compile(r"^(?:Step|Task) (\d+): (.+)$", re.DOTALL)


class ItemForm(forms.ModelForm):
    """An item's scalar fields, who may order it and its order form (JSON)."""

    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Roles that may order it; none ticked means every role.",
    )
    form = forms.CharField(
        label="Order form",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 10, "spellcheck": "false", "class": "font-monospace", "data-form-json": ""}
        ),
        help_text=(
            "The form's fields as JSON: a list of {key, label, type, required, choices, show_if…}. "
            "The builder below edits it; without JavaScript, edit the JSON here."
        ),
    )

    class Meta:
        model = CatalogItem
        fields = (
            "name",
            "slug",
            "offering",
            "category",
            "summary",
            "description",
            "picture",
            "price",
            "currency",
            "delivery_days",
            "organizations",
            "roles",
            "allow_on_behalf",
            "ticket_category",
            "fulfilment_team",
            "is_active",
            "position",
            "form",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "organizations": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offering"].queryset = Offering.objects.restrict(actor, "view").select_related("service")
        self.fields["category"].queryset = CatalogCategory.objects.restrict(actor, "view")
        self.fields["organizations"].queryset = Organization.objects.restrict(actor, "view")
        self.fields["organizations"].help_text = "Who may order it; none chosen means everyone."
        self.fields["ticket_category"].queryset = Category.objects.restrict(actor, "view")
        self.fields["fulfilment_team"].queryset = Team.objects.restrict(actor, "view")
        self.fields["picture"].widget.attrs["accept"] = "image/png,image/jpeg,image/webp,image/gif"
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "The item's web address; left empty, it is made from the name."
        if not self.is_bound:
            self.initial["form"] = json.dumps(self.instance.form or [], indent=2, ensure_ascii=False)

    def clean_form(self) -> Any:
        raw = (self.cleaned_data.get("form") or "").strip()
        if not raw:
            return []
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"The form is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc

    def _post_clean(self) -> None:
        # The model's own validation runs in the service, on the record as stored; the form
        # must not write the submitted values into an instance (the view keeps no state).
        pass

    def service_data(self) -> dict[str, Any]:
        """What ``item_save`` takes: scalar fields, ids for relations, the picture only when
        it changed (False clears it)."""
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "picture":
                if name in self.changed_data:
                    data[name] = value or False
                continue
            if name == "organizations":
                data[name] = [organization.pk for organization in value]
            elif hasattr(value, "pk"):
                data[name] = value.pk
            else:
                data[name] = value
        return data


class ApprovalStepRowForm(forms.Form):
    """One level of the item's approval; rows run in order, a group's N of M in parallel."""

    name = forms.CharField(max_length=100, required=False)
    kind = forms.ChoiceField(choices=[("", "—"), *ApproverKind.choices], required=False)
    group = forms.ModelChoiceField(queryset=ApprovalGroup.objects.none(), required=False)
    person = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    required = forms.IntegerField(min_value=1, initial=1, label="Approvals needed")
    remind_after_hours = forms.IntegerField(
        min_value=0, initial=DEFAULT_REMIND_AFTER_HOURS, label="Remind after (h)"
    )
    escalate_after_hours = forms.IntegerField(
        min_value=0, initial=DEFAULT_ESCALATE_AFTER_HOURS, label="Escalate after (h)"
    )

    def __init__(self, *args, groups=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if groups is not None:
            self.fields["group"].queryset = groups
        if people is not None:
            self.fields["person"].queryset = people
            self.fields["person"].label_from_instance = lambda user: f"{user} ({user.username})"

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("kind")

    def step_data(self, position: int) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "position": position,
            "name": data.get("name", ""),
            "kind": data["kind"],
            "group": data["group"].pk if data.get("group") else None,
            "person": data["person"].pk if data.get("person") else None,
            "required": data["required"],
            "remind_after_hours": data["remind_after_hours"],
            "escalate_after_hours": data["escalate_after_hours"],
        }


class TaskRowForm(forms.Form):
    """One task of the fulfilment plan: tasks of one stage run in parallel, stages in order."""

    stage = forms.IntegerField(min_value=1, initial=1)
    name = forms.CharField(max_length=150, required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    target_minutes = forms.IntegerField(
        min_value=1,
        initial=TaskTemplate._meta.get_field("target_minutes").default,
        label="Target (business minutes)",
    )
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is not None:
            self.fields["team"].queryset = teams

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("name") and not self.cleaned_data.get("team")

    def task_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "stage": data["stage"],
            "name": data.get("name", ""),
            "team": data["team"].pk if data.get("team") else None,
            "target_minutes": data["target_minutes"],
            "instructions": data.get("instructions", ""),
        }


class RowFormSet(forms.BaseFormSet):
    """A formset whose rows a service judges as a whole list; its errors come back per row."""

    def rows(self) -> list[forms.Form]:
        """The filled-in rows in order, without the deleted and the blank ones."""
        kept = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            if not form.has_changed() and not form.initial:
                continue
            if form.is_blank():
                continue
            kept.append(form)
        return kept

    def add_row_errors(self, exc: ServiceError, rows: list[forms.Form]) -> None:
        """Show a service's refusal on the row it names ("Step 2: …", "Task 1: …"), else above
        the table. Rows are counted as sent: the filled-in ones, in order."""
        messages_ = [text for texts in (exc.errors or {}).values() for text in texts] or [exc.message]
        for text in messages_:
            match = ROW_MESSAGE.match(text)
            number = int(match.group(1)) if match else 0
            if 1 <= number <= len(rows):
                rows[number - 1].add_error(None, match.group(2)[:1].upper() + match.group(2)[1:])
            else:
                self.non_form_errors().append(text)


ApprovalStepFormSet = formset_factory(
    ApprovalStepRowForm,
    formset=RowFormSet,
    extra=EXTRA_ROWS,
    can_delete=True,
    max_num=MAX_APPROVAL_STEPS,
    validate_max=True,
)
TaskPlanFormSet = formset_factory(
    TaskRowForm, formset=RowFormSet, extra=EXTRA_ROWS, can_delete=True, max_num=MAX_TASKS, validate_max=True
)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = CatalogCategory
        fields = ("name", "slug", "description", "position")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].widget.attrs["placeholder"] = "from the name"

    def _post_clean(self) -> None:
        # Judged by ``category_save`` on the record as stored.
        pass


class ApprovalGroupForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="Any of them may approve a step that names the group; hold Ctrl to choose several.",
    )

    class Meta:
        model = ApprovalGroup
        fields = ("name", "description", "members")

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = User.objects.restrict(actor, "view").filter(is_active=True)
        self.fields["members"].label_from_instance = lambda user: f"{user} ({user.username})"

    def _post_clean(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["members"] = [user.pk for user in data.get("members", [])]
        return data


class TaskCompleteForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done; the requester sees the task's progress.",
    )


class TaskCancelForm(forms.Form):
    reason = forms.CharField(label="Why it is not needed", widget=forms.Textarea(attrs={"rows": 2}))
