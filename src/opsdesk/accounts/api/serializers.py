from __future__ import annotations

from rest_framework import serializers

from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, Skill, Team, User
from opsdesk.core.api.serializers import StrictModelSerializer


class LocationSerializer(StrictModelSerializer):
    class Meta:
        model = Location
        fields = (
            "id",
            "name",
            "address",
            "city",
            "country",
            "time_zone",
            "version",
            "created_at",
            "updated_at",
        )


class OrganizationSerializer(StrictModelSerializer):
    class Meta:
        model = Organization
        fields = (
            "id",
            "name",
            "kind",
            "parent",
            "email_domain",
            "requesters_see_organization",
            "is_vip",
            "location",
            "notes",
            "version",
            "created_at",
            "updated_at",
        )


class UserSerializer(StrictModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}, min_length=10, max_length=128
    )
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "organization",
            "manager",
            "location",
            "job_title",
            "phone",
            "language",
            "time_zone",
            "is_vip",
            "presence",
            "is_active",
            "teams",
            "password",
            "last_login",
            "date_joined",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("last_login", "date_joined")


class TeamSerializer(StrictModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Team
        fields = (
            "id",
            "name",
            "tier",
            "description",
            "email",
            "lead",
            "members",
            "version",
            "created_at",
            "updated_at",
        )


class SkillSerializer(StrictModelSerializer):
    class Meta:
        model = Skill
        fields = ("id", "name", "category", "description", "version", "created_at", "updated_at")


class AgentSkillSerializer(StrictModelSerializer):
    class Meta:
        model = AgentSkill
        fields = ("id", "user", "skill", "level", "version", "created_at", "updated_at")


class ShiftSerializer(StrictModelSerializer):
    class Meta:
        model = Shift
        fields = ("id", "user", "weekday", "starts", "ends", "version", "created_at", "updated_at")


class AbsenceSerializer(StrictModelSerializer):
    class Meta:
        model = Absence
        fields = ("id", "user", "kind", "starts_at", "ends_at", "note", "version", "created_at", "updated_at")


class TeamMemberSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
