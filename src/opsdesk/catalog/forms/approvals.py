"""The approvers' forms: a decision with its comment, and a stand-in while someone is away.

They only shape the input; ``approval_decide`` and ``delegation_save`` judge it (who may
decide, overlapping periods, dates in the past) and the views show their refusals by field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from opsdesk.accounts.choices import STAFF_ROLES
from opsdesk.accounts.models import User
from opsdesk.catalog.choices import Decision
from opsdesk.catalog.models import ApprovalDelegation

# The approval service's own limits, repeated here so the browser says so before posting.
MAX_COMMENT_LENGTH = 5_000
MAX_REASON_LENGTH = 200


class DecisionForm(forms.Form):
    """Approve or reject, with a comment the requester reads (required to reject)."""

    decision = forms.ChoiceField(
        label="Do you approve this order?", choices=Decision.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The requester reads it. Say why when you reject the order.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        comment = (cleaned.get("comment") or "").replace("\x00", "").strip()
        cleaned["comment"] = comment
        if cleaned.get("decision") == Decision.REJECT and not comment:
            # A rejected request closes with the reason: the requester deserves one.
            self.add_error("comment", "Say why you reject it: the requester reads this.")
        return cleaned


def stand_in_candidates(actor: User) -> QuerySet[User]:
    """Who may be picked as a stand-in (or, for managers, as the person away): active
    colleagues of the actor's organisation and the support staff; managers pick anyone."""
    people = User.objects.filter(is_active=True)
    if not actor.is_manager:
        colleagues = Q(role__in=STAFF_ROLES)
        if actor.organization_id:
            colleagues |= Q(organization_id=actor.organization_id)
        people = people.filter(colleagues)
    return people.order_by("first_name", "last_name", "username")


class DelegationForm(forms.Form):
    """While ``approver`` is away from ``starts_on`` to ``ends_on``, ``delegate`` decides."""

    approver = forms.ModelChoiceField(
        label="Who is away", queryset=User.objects.none(), help_text="Managers arrange anyone's stand-in."
    )
    delegate = forms.ModelChoiceField(
        label="Stand-in", queryset=User.objects.none(), help_text="Decides in your place between the dates."
    )
    starts_on = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label="Until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day away, included.",
    )
    reason = forms.CharField(
        label="Why", required=False, max_length=MAX_REASON_LENGTH, help_text="For example: holiday."
    )

    def __init__(
        self, *args: Any, actor: User, delegation: ApprovalDelegation | None = None, **kwargs: Any
    ) -> None:
        if delegation is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "approver": delegation.approver_id,
                "delegate": delegation.delegate_id,
                "starts_on": delegation.starts_on,
                "ends_on": delegation.ends_on,
                "reason": delegation.reason,
            }
        super().__init__(*args, **kwargs)
        candidates = stand_in_candidates(actor)
        self.fields["delegate"].queryset = (
            candidates.exclude(pk=actor.pk) if not actor.is_manager else candidates
        )
        if actor.is_manager:
            self.fields["approver"].queryset = candidates
            self.fields["approver"].initial = self.initial.get("approver", actor.pk)
        else:
            # People arrange their own stand-in only: no choice to offer.
            del self.fields["approver"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last day comes on or after the first.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """What ``delegation_save`` takes: people by id, dates as dates."""
        data = dict(self.cleaned_data)
        for name in ("approver", "delegate"):
            if data.get(name) is not None:
                data[name] = data[name].pk
        return data
