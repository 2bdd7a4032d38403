"""Screens to manage people and organisation. Thin: generic restricted views from
``opsdesk.core.views``, with writes through ``opsdesk.accounts.services``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsdesk.accounts import filtersets, selectors, services
from opsdesk.accounts.choices import Availability
from opsdesk.accounts.forms import (
    AbsenceForm,
    AgentSkillForm,
    LocationForm,
    OrganizationForm,
    ShiftForm,
    SkillForm,
    TeamForm,
    TeamMemberForm,
    UserForm,
)
from opsdesk.accounts.models import (
    Absence,
    AgentSkill,
    Location,
    Organization,
    Shift,
    Skill,
    Team,
    TeamMembership,
    User,
)
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    may,
    restrict_choice_fields,
    style_form,
)

RELATED_LIMIT = 50


# --- people ---------------------------------------------------------------------------------
class UserListView(ObjectListView):
    model = User
    filterset_class = filtersets.UserFilterSet
    search_fields = ("username", "first_name", "last_name", "email")
    ordering_fields = {
        "username": "username",
        "name": "last_name",
        "organization": "organization__name",
        "role": "role",
        "joined": "date_joined",
    }

    def restricted_queryset(self, action="view"):
        return selectors.user_list_for(user=self.request.user)

    def customize_filter_form(self, form):
        # The FilterSet takes ids (the API's contract); people pick from names.
        user = self.request.user
        form.fields["organization"].label = "Organisation"
        form.fields["team"] = forms.ModelChoiceField(Team.objects.restrict(user, "view"), required=False)
        form.fields["skill"] = forms.ModelChoiceField(Skill.objects.restrict(user, "view"), required=False)


class UserDetailView(ObjectDetailView):
    model = User
    select_related = ("organization", "location")

    def extra_context(self, instance: User) -> dict[str, Any]:
        viewer = self.request.user
        now = timezone.now()
        context: dict[str, Any] = {
            "teams": Team.objects.restrict(viewer, "view")
            .filter(memberships__user=instance)
            .select_related("lead"),
            "edit_url": _url("accounts:user_edit", instance.pk),
            "is_self": viewer.pk == instance.pk,
        }
        if instance.is_agent:
            # Offer the buttons only where the rules will say yes: managers, and the person's lead.
            maintains = not viewer.is_read_only and (
                viewer.is_manager or TeamMembership.objects.filter(team__lead=viewer, user=instance).exists()
            )
            availability = selectors.user_availability(user=instance, at=now)
            context.update(
                availability=availability,
                availability_label=Availability(availability).label,
                skills=AgentSkill.objects.restrict(viewer, "view")
                .filter(user=instance)
                .select_related("skill"),
                shifts=Shift.objects.restrict(viewer, "view").filter(user=instance),
                absences=Absence.objects.restrict(viewer, "view")
                .filter(user=instance, ends_at__gt=now)
                .order_by("starts_at"),
                can_add_skill=maintains,
                can_add_shift=maintains,
                can_add_absence=maintains or (viewer.pk == instance.pk and not viewer.is_read_only),
            )
        return context


class UserEditView(ObjectEditView):
    model = User
    form_class = UserForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def perform_create(self, form):
        data = dict(form.cleaned_data)
        username = data.pop("username")
        password = data.pop("initial_password", "") or None
        try:
            return services.user_create(actor=self.request.user, username=username, password=password, **data)
        except ValidationError as exc:
            # The service reports a weak password as "password"; this form calls it "initial_password".
            if hasattr(exc, "error_dict") and "password" in exc.error_dict:
                raise ValidationError({"initial_password": exc.error_dict["password"]}) from exc
            raise

    def perform_update(self, form, version):
        # Only what the editor changed: the service judges each field it is asked to set.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        return services.user_update(
            actor=self.request.user, user=self.object, data=data, expected_version=version
        )


# --- organisations ------------------------------------------------------------------------
class OrganizationListView(ObjectListView):
    model = Organization
    filterset_class = filtersets.OrganizationFilterSet
    search_fields = ("name", "email_domain")
    ordering_fields = {"name": "name", "kind": "kind", "parent": "parent__name", "members": "member_count"}

    def restricted_queryset(self, action="view"):
        return selectors.organization_list_for(user=self.request.user)


class OrganizationDetailView(ObjectDetailView):
    model = Organization
    select_related = ("parent", "location")

    def extra_context(self, instance: Organization) -> dict[str, Any]:
        viewer = self.request.user
        ancestors, parent = [], instance.parent
        while parent is not None:
            ancestors.insert(0, parent)
            parent = parent.parent
        members = (
            User.objects.restrict(viewer, "view").filter(organization=instance).select_related("location")
        )
        return {
            "ancestors": [org for org in ancestors if may(viewer, "view", org)],
            "children": Organization.objects.restrict(viewer, "view")
            .filter(parent=instance)
            .annotate(member_count=Count("members")),
            "members": members[:RELATED_LIMIT],
            "member_total": members.count(),
            "member_limit": RELATED_LIMIT,
            "edit_url": _url("accounts:organization_edit", instance.pk),
            "delete_url": _url("accounts:organization_delete", instance.pk),
        }


class OrganizationEditView(ObjectEditView):
    model = Organization
    form_class = OrganizationForm


class OrganizationDeleteView(ObjectDeleteView):
    model = Organization


# --- locations --------------------------------------------------------------------------------
class LocationListView(ObjectListView):
    model = Location
    filterset_class = filtersets.LocationFilterSet
    search_fields = ("name", "city")
    ordering_fields = {"name": "name", "city": "city", "country": "country", "time_zone": "time_zone"}


class LocationDetailView(ObjectDetailView):
    model = Location

    def extra_context(self, instance: Location) -> dict[str, Any]:
        people = User.objects.restrict(self.request.user, "view").filter(location=instance)
        return {
            "people": people.select_related("organization")[:RELATED_LIMIT],
            "people_total": people.count(),
            "member_limit": RELATED_LIMIT,
            "local_time": timezone.localtime(timezone=ZoneInfo(instance.time_zone)),
            "edit_url": _url("accounts:location_edit", instance.pk),
            "delete_url": _url("accounts:location_delete", instance.pk),
        }


class LocationEditView(ObjectEditView):
    model = Location
    form_class = LocationForm


class LocationDeleteView(ObjectDeleteView):
    model = Location


# --- teams --------------------------------------------------------------------------------------
class TeamListView(ObjectListView):
    model = Team
    filterset_class = filtersets.TeamFilterSet
    search_fields = ("name", "email")
    ordering_fields = {"name": "name", "tier": "tier", "lead": "lead__last_name", "members": "member_count"}

    def restricted_queryset(self, action="view"):
        return selectors.team_list_for(user=self.request.user)

    def customize_filter_form(self, form):
        form.fields["member"] = forms.ModelChoiceField(
            User.objects.restrict(self.request.user, "view")
            .filter(team_memberships__isnull=False)
            .distinct(),
            required=False,
        )


class TeamDetailView(ObjectDetailView):
    model = Team
    select_related = ("lead",)

    def extra_context(self, instance: Team) -> dict[str, Any]:
        viewer = self.request.user
        can_manage = viewer.is_manager or instance.lead_id == viewer.pk
        memberships = (
            TeamMembership.objects.restrict(viewer, "view")
            .filter(team=instance)
            .select_related("user", "user__location")
            .order_by("user__last_name", "user__username")
        )
        member_form = None
        if can_manage:
            member_form = TeamMemberForm(team=instance)
            restrict_choice_fields(member_form, viewer)
            style_form(member_form)
        return {
            "memberships": memberships,
            "can_manage_members": can_manage,
            "member_form": member_form,
            "edit_url": _url("accounts:team_edit", instance.pk),
            "delete_url": _url("accounts:team_delete", instance.pk),
        }


class TeamEditView(ObjectEditView):
    model = Team
    form_class = TeamForm


class TeamDeleteView(ObjectDeleteView):
    model = Team


def _team_for(request, pk: int) -> Team:
    try:
        return Team.objects.restrict(request.user, "view").get(pk=pk)
    except Team.DoesNotExist as exc:
        raise Http404("No team here.") from exc


@require_POST
@login_required
def team_member_add(request, pk: int):
    team = _team_for(request, pk)
    form = TeamMemberForm(request.POST, team=team)
    restrict_choice_fields(form, request.user)
    if form.is_valid():
        person = form.cleaned_data["user"]
        try:
            services.team_member_add(actor=request.user, team=team, user=person)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{person} joined {team.name}.")
    else:
        messages.error(request, "Pick a member of support staff who is not in the team yet.")
    return redirect(team)


@require_POST
@login_required
def team_member_remove(request, pk: int, user_id: int):
    team = _team_for(request, pk)
    try:
        person = User.objects.restrict(request.user, "view").get(pk=user_id)
    except User.DoesNotExist as exc:
        raise Http404("No such person.") from exc
    try:
        services.team_member_remove(actor=request.user, team=team, user=person)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{person} left {team.name}.")
    return redirect(team)


# --- skills --------------------------------------------------------------------------------------
class SkillListView(ObjectListView):
    model = Skill
    filterset_class = filtersets.SkillFilterSet
    search_fields = ("name", "category", "description")
    ordering_fields = {"name": "name", "category": "category", "holders": "holder_count"}

    def restricted_queryset(self, action="view"):
        return super().restricted_queryset(action).annotate(holder_count=Count("holders"))

    def customize_filter_form(self, form):
        # Categories are free text; offer the ones in use instead of a blank box.
        categories = (
            Skill.objects.restrict(self.request.user, "view")
            .exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()
        )
        form.fields["category"] = forms.ChoiceField(
            choices=[("", "Any")] + [(name, name) for name in categories], required=False
        )


class SkillDetailView(ObjectDetailView):
    model = Skill

    def extra_context(self, instance: Skill) -> dict[str, Any]:
        holders = (
            AgentSkill.objects.restrict(self.request.user, "view")
            .filter(skill=instance)
            .select_related("user")
            .order_by("-level", "user__last_name")
        )
        return {
            "holders": holders,
            "edit_url": _url("accounts:skill_edit", instance.pk),
            "delete_url": _url("accounts:skill_delete", instance.pk),
            "can_add_holder": user_can(self.request.user, "add", AgentSkill),
        }


class SkillEditView(ObjectEditView):
    model = Skill
    form_class = SkillForm


class SkillDeleteView(ObjectDeleteView):
    model = Skill


# --- a person's skills, shifts and absences -----------------------------------------------------
class PersonRecordEditMixin:
    """Skills, shifts and absences belong to a person: start from ``?user=`` and go back there."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def get_initial(self):
        initial = super().get_initial()
        for name in ("user", "skill"):
            if self.request.GET.get(name, "").isdigit():
                initial[name] = int(self.request.GET[name])
        return initial

    def success_url(self, instance):
        return instance.user.get_absolute_url()

    def cancel_url(self):
        if self.object is not None:
            return self.object.user.get_absolute_url()
        return self.request.user.get_absolute_url()


class PersonRecordDeleteMixin:
    select_related = ("user",)

    def success_url(self):
        return self.object.user.get_absolute_url()

    def cancel_url(self):
        return self.object.user.get_absolute_url()


class AgentSkillEditView(PersonRecordEditMixin, ObjectEditView):
    model = AgentSkill
    form_class = AgentSkillForm
    select_related = ("user", "skill")


class AgentSkillDeleteView(PersonRecordDeleteMixin, ObjectDeleteView):
    model = AgentSkill


class ShiftEditView(PersonRecordEditMixin, ObjectEditView):
    model = Shift
    form_class = ShiftForm
    select_related = ("user",)


class ShiftDeleteView(PersonRecordDeleteMixin, ObjectDeleteView):
    model = Shift


class AbsenceListView(ObjectListView):
    """Who is away: current and planned absences first, the past on request."""

    model = Absence
    filterset_class = filtersets.AbsenceFilterSet
    search_fields = ("user__username", "user__first_name", "user__last_name", "note")
    ordering_fields = {"person": "user__last_name", "kind": "kind", "starts": "starts_at", "ends": "ends_at"}
    select_related = ("user",)

    def restricted_queryset(self, action="view"):
        queryset = super().restricted_queryset(action)
        if self.request.GET.get("when") != "past":
            return queryset.filter(ends_at__gt=timezone.now()).order_by("starts_at", "pk")
        return queryset.filter(ends_at__lte=timezone.now()).order_by("-starts_at", "pk")

    def customize_filter_form(self, form):
        for name in ("starts_at__gte", "starts_at__lte", "ends_at__gte", "ends_at__lte"):
            form.fields.pop(name, None)
        form.fields["user"] = forms.ModelChoiceField(
            User.objects.restrict(self.request.user, "view").filter(absences__isnull=False).distinct(),
            required=False,
            label="Person",
        )

    def extra_context(self):
        past = self.request.GET.get("when") == "past"
        return {"showing_past": past, "keep_params": [("when", "past")] if past else []}


class AbsenceEditView(PersonRecordEditMixin, ObjectEditView):
    model = Absence
    form_class = AbsenceForm
    select_related = ("user",)

    def success_url(self, instance):
        return instance.user.get_absolute_url()


class AbsenceDeleteView(PersonRecordDeleteMixin, ObjectDeleteView):
    model = Absence


def _url(name: str, pk: int) -> str:
    return reverse(name, args=[pk])
