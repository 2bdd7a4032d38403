from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from opsdesk.accounts import filtersets, services
from opsdesk.accounts.api import serializers
from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, Skill, Team, User
from opsdesk.core.api.views import RestrictedModelViewSet


class UserViewSet(RestrictedModelViewSet):
    """People: requesters and support staff. Requesters see themselves (and their organisation
    where it allows that); only administrators grant privileged roles."""

    queryset = User.objects.all()
    serializer_class = serializers.UserSerializer
    filterset_class = filtersets.UserFilterSet
    search_fields = ("username", "first_name", "last_name", "email")
    ordering_fields = ("id", "username", "last_name", "date_joined")
    # The serializer shows the organisation's id only, so no join; teams as ids only.
    prefetch_related = (Prefetch("teams", queryset=Team.objects.only("id")),)

    def create_record(self, data: dict[str, Any]) -> User:
        return services.user_create(actor=self.request.user, **data)

    def update_record(self, instance: User, data: dict[str, Any], version: int | None) -> User:
        # Both writes share the view's transaction: a refused password leaves the profile unchanged.
        password = data.pop("password", None)
        user = services.user_update(
            actor=self.request.user, user=instance, data=data, expected_version=version
        )
        if password:
            services.user_set_password(actor=self.request.user, user=user, password=password)
        return user

    def delete_record(self, instance: User, version: int | None) -> None:
        services.user_deactivate(actor=self.request.user, user=instance, expected_version=version)

    @extend_schema(responses=serializers.UserSerializer, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def me(self, request):
        """The signed-in user."""
        return Response(self.get_serializer(request.user).data)


class OrganizationViewSet(RestrictedModelViewSet):
    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    filterset_class = filtersets.OrganizationFilterSet
    search_fields = ("name", "email_domain")
    ordering_fields = ("id", "name")


class LocationViewSet(RestrictedModelViewSet):
    queryset = Location.objects.all()
    serializer_class = serializers.LocationSerializer
    filterset_class = filtersets.LocationFilterSet
    search_fields = ("name", "city")
    ordering_fields = ("id", "name")


class TeamViewSet(RestrictedModelViewSet):
    queryset = Team.objects.all()
    serializer_class = serializers.TeamSerializer
    filterset_class = filtersets.TeamFilterSet
    search_fields = ("name", "email")
    ordering_fields = ("id", "name", "tier")
    prefetch_related = ("members",)

    @extend_schema(request=serializers.TeamMemberSerializer, responses=serializers.TeamSerializer)
    @action(detail=True, methods=["post"], url_path="members")
    def add_member(self, request, pk=None):
        """Add an agent to the team (team lead or manager)."""
        team = self.get_object()
        payload = serializers.TeamMemberSerializer(data=request.data)
        payload.fields["user"].queryset = User.objects.restrict(request.user, "view")
        payload.is_valid(raise_exception=True)
        services.team_member_add(actor=request.user, team=team, user=payload.validated_data["user"])
        return Response(
            self.get_serializer(self.get_queryset().get(pk=team.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>\d+)")
    def remove_member(self, request, pk=None, user_id=None):
        """Remove an agent from the team (team lead or manager)."""
        team = self.get_object()
        user = get_object_or_404(User.objects.restrict(request.user, "view"), pk=user_id)
        services.team_member_remove(actor=request.user, team=team, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SkillViewSet(RestrictedModelViewSet):
    queryset = Skill.objects.all()
    serializer_class = serializers.SkillSerializer
    filterset_class = filtersets.SkillFilterSet
    search_fields = ("name", "category")
    ordering_fields = ("id", "name", "category")


class AgentSkillViewSet(RestrictedModelViewSet):
    queryset = AgentSkill.objects.all()
    serializer_class = serializers.AgentSkillSerializer
    filterset_class = filtersets.AgentSkillFilterSet
    search_fields = ("skill__name", "user__username")
    ordering_fields = ("id", "level")
    select_related = ("skill", "user")


class ShiftViewSet(RestrictedModelViewSet):
    queryset = Shift.objects.all()
    serializer_class = serializers.ShiftSerializer
    filterset_class = filtersets.ShiftFilterSet
    search_fields = ("user__username",)
    ordering_fields = ("id", "weekday", "starts")


class AbsenceViewSet(RestrictedModelViewSet):
    queryset = Absence.objects.all()
    serializer_class = serializers.AbsenceSerializer
    filterset_class = filtersets.AbsenceFilterSet
    search_fields = ("user__username", "note")
    ordering_fields = ("id", "starts_at", "ends_at")
