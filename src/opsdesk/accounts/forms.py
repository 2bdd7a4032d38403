"""Web forms for people and organisation. They only collect input; services decide.

Forms offer only what the person filling them in may change: a requester editing their
profile never sees role, organisation or "active", so they cannot even try.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from opsdesk.accounts.choices import PRIVILEGED_ROLES, STAFF_ROLES, Role
from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, Skill, Team, User
from opsdesk.accounts.permissions import led_member_ids

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


def staff_people():
    """People who can join teams, lead them, hold skills and work shifts."""
    return User.objects.filter(Q(role__in=STAFF_ROLES) | Q(is_superuser=True), is_active=True)


def people_actor_maintains(actor: User, *, include_self: bool):
    """Whose skills, shifts or absences ``actor`` may record: everyone for managers,
    the members of their teams for a lead, and (for absences) themselves."""
    people = staff_people()
    if actor.is_manager:
        return people
    allowed = Q(pk__in=led_member_ids(actor))
    if include_self:
        allowed |= Q(pk=actor.pk)
    return people.filter(allowed)


class UserForm(forms.ModelForm):
    """Create or edit a person; which fields appear depends on who is editing whom."""

    SELF_SERVICE = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "location",
        "language",
        "time_zone",
        "presence",
    )

    initial_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to let the person sign in only after a manager sets a password.",
    )

    class Meta:
        model = User
        fields = (
            "username",
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "location",
            "language",
            "time_zone",
            "presence",
            "role",
            "organization",
            "manager",
            "is_vip",
            "is_active",
        )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        target = self.instance if self.instance.pk else None
        self.fields["language"] = forms.ChoiceField(choices=settings.LANGUAGES, initial="en")
        self.fields["time_zone"] = forms.ChoiceField(choices=time_zone_choices(), initial="UTC")
        for name in self.protected_fields_hidden_from(actor, target):
            self.fields.pop(name, None)
        if target is not None:
            self.fields.pop("username", None)
            self.fields.pop("initial_password", None)
        if "role" in self.fields and not actor.is_admin:
            self.fields["role"].choices = [
                (value, label) for value, label in Role.choices if value not in PRIVILEGED_ROLES
            ]

    @staticmethod
    def protected_fields_hidden_from(actor: User, target: User | None) -> list[str]:
        hidden = []
        if not actor.is_manager:
            return ["role", "organization", "manager", "is_vip", "is_active"]
        editing_self = target is not None and target.pk == actor.pk
        if target is not None and not actor.is_admin and target.has_privileged_role:
            hidden.append("role")
        if editing_self and not actor.is_superuser:
            # Nobody promotes or deactivates themselves.
            hidden += ["role", "is_active"]
        if target is None:
            hidden.append("is_active")
        return hidden

    def clean_initial_password(self) -> str:
        # Strength is checked by the service against the finished record (name similarity).
        return self.cleaned_data.get("initial_password", "")


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = (
            "name",
            "kind",
            "parent",
            "location",
            "email_domain",
            "requesters_see_organization",
            "is_vip",
            "notes",
        )
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Its own children are refused by the model's clean(); itself is simply not offered.
            self.fields["parent"].queryset = Organization.objects.exclude(pk=self.instance.pk)


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ("name", "address", "city", "country", "time_zone")
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = forms.ChoiceField(
            choices=time_zone_choices(), initial="UTC", help_text="Local times at this site are shown in it."
        )
        self.fields["country"].help_text = "Two letters, e.g. DE, FR, GB."


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ("name", "tier", "lead", "email", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = staff_people()


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Add a member", empty_label="Choose a person…"
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_people().exclude(team_memberships__team=team)


class SkillForm(forms.ModelForm):
    class Meta:
        model = Skill
        fields = ("name", "category", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class PersonChoiceMixin:
    """Child records of a person: offer only the people the actor may maintain."""

    include_self = False

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people_actor_maintains(actor, include_self=self.include_self)
        self.fields["user"].label = "Person"


class AgentSkillForm(PersonChoiceMixin, forms.ModelForm):
    class Meta:
        model = AgentSkill
        fields = ("user", "skill", "level")


class ShiftForm(PersonChoiceMixin, forms.ModelForm):
    class Meta:
        model = Shift
        fields = ("user", "weekday", "starts", "ends")
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {"ends": "In the person's own time zone. An end before the start runs past midnight."}


class AbsenceForm(PersonChoiceMixin, forms.ModelForm):
    include_self = True

    class Meta:
        model = Absence
        fields = ("user", "kind", "starts_at", "ends_at", "note")
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        }
        labels = {"starts_at": "From", "ends_at": "Until"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["starts_at"].help_text = f"Date and time in {zone}."
        self.fields["ends_at"].help_text = f"Date and time in {zone}."
