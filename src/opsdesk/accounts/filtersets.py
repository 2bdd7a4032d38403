"""One FilterSet per model, shared by the web lists and the API."""

from __future__ import annotations

import django_filters

from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, Skill, Team, User


class UserFilterSet(django_filters.FilterSet):
    team = django_filters.NumberFilter(field_name="team_memberships__team", distinct=True)
    skill = django_filters.NumberFilter(field_name="skills__skill", distinct=True)

    class Meta:
        model = User
        fields = {
            "role": ["exact"],
            "organization": ["exact"],
            "location": ["exact"],
            "is_active": ["exact"],
            "is_vip": ["exact"],
            "presence": ["exact"],
        }


class OrganizationFilterSet(django_filters.FilterSet):
    class Meta:
        model = Organization
        fields = {"kind": ["exact"], "parent": ["exact", "isnull"], "is_vip": ["exact"]}


class LocationFilterSet(django_filters.FilterSet):
    class Meta:
        model = Location
        fields = {"country": ["exact"], "time_zone": ["exact"]}


class TeamFilterSet(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="memberships__user", distinct=True)

    class Meta:
        model = Team
        fields = {"tier": ["exact"], "lead": ["exact"]}


class SkillFilterSet(django_filters.FilterSet):
    class Meta:
        model = Skill
        fields = {"category": ["exact"]}


class AgentSkillFilterSet(django_filters.FilterSet):
    class Meta:
        model = AgentSkill
        fields = {"user": ["exact"], "skill": ["exact"], "level": ["exact", "gte"]}


class ShiftFilterSet(django_filters.FilterSet):
    class Meta:
        model = Shift
        fields = {"user": ["exact"], "weekday": ["exact"]}


class AbsenceFilterSet(django_filters.FilterSet):
    class Meta:
        model = Absence
        fields = {
            "user": ["exact"],
            "kind": ["exact"],
            "starts_at": ["gte", "lte"],
            "ends_at": ["gte", "lte"],
        }
