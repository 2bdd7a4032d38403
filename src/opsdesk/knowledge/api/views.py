"""``/api/v1/articles/``: the knowledge base, restricted like the screens (requesters read
published public articles only), writes through the knowledge services."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions
from rest_framework.decorators import action
from rest_framework.response import Response

from opsdesk.core.api.pagination import IdCursorPagination
from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import RestrictedModelViewSet
from opsdesk.knowledge import selectors, services
from opsdesk.knowledge.api import serializers
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article, ArticleVersion


class ReadOnlyRolesDoNotWrite(permissions.BasePermission):
    message = "Your role reads the knowledge base; it does not change it."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or not getattr(request.user, "is_read_only", False)


PERMISSIONS = [RestrictedPermission, ReadOnlyRolesDoNotWrite]
LIST_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=ArticleStatus.values, description="Only this status."),
    OpenApiParameter("audience", OpenApiTypes.STR, enum=Audience.values, description="Only this audience."),
    OpenApiParameter("language", OpenApiTypes.STR, description="Only this language code."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Words in the title or text."),
]


def _etagged(response: Response) -> Response:
    version = response.data.get("version") if isinstance(response.data, dict) else None
    if version is not None:
        response["ETag"] = f'"{version}"'
    return response


@extend_schema_view(list=extend_schema(parameters=LIST_PARAMETERS))
class ArticleViewSet(RestrictedModelViewSet):
    """Knowledge articles. Requesters read published public ones; agents write drafts; owners,
    reviewers and managers publish. Every edit of title or body is kept as a version."""

    queryset = Article.objects.all()
    serializer_class = serializers.ArticleSerializer
    permission_classes = PERMISSIONS
    pagination_class = IdCursorPagination
    search_fields = ("title", "body")
    ordering_fields = ("id", "updated_at", "created_at", "title")
    select_related = ("owner", "team")
    prefetch_related = ("categories", "services", "reviewers")

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.detail:
            return queryset
        params = self.request.query_params
        filters = Q()
        if params.get("status") in ArticleStatus.values:
            filters &= Q(status=params["status"])
        elif params.get("status"):
            raise exceptions.ValidationError({"status": [f"One of {', '.join(ArticleStatus.values)}."]})
        if params.get("audience") in Audience.values:
            filters &= Q(audience=params["audience"])
        elif params.get("audience"):
            raise exceptions.ValidationError({"audience": [f"One of {', '.join(Audience.values)}."]})
        if params.get("language"):
            filters &= Q(language__iexact=params["language"][:10])
        queryset = queryset.filter(filters)
        if params.get("q"):
            ids = selectors.article_list_for(user=self.request.user, query=params["q"][:300]).values("id")
            queryset = queryset.filter(pk__in=ids)
        return queryset

    def create_record(self, data: dict[str, Any]) -> Article:
        return services.article_create(actor=self.request.user, **data)

    def update_record(self, instance: Article, data: dict[str, Any], version: int | None) -> Article:
        data = dict(data)
        note = data.pop("note", "")
        return services.article_update(
            actor=self.request.user, article=instance, data=data, expected_version=version, note=note
        )

    @extend_schema(request=serializers.ArticleTransitionSerializer, responses=serializers.ArticleSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the article: draft → in_review → published → retired (see the docs for all moves)."""
        article = self.get_object()
        payload = serializers.ArticleTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.article_transition(actor=request.user, article=article, to=payload.validated_data["to"])
        return _etagged(Response(self.get_serializer(self.get_queryset().get(pk=article.pk)).data))

    @extend_schema(responses=serializers.ArticleVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, pk=None):
        """Every saved version, newest first. For the service desk."""
        article = self.get_object()
        if not request.user.is_agent:
            raise exceptions.NotFound("No versions here.")
        versions = selectors.article_versions(article=article)
        return Response(serializers.ArticleVersionSerializer(versions, many=True).data)

    @extend_schema(request=serializers.ArticleRestoreSerializer, responses=serializers.ArticleSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring an old version back as a new version."""
        article = self.get_object()
        payload = serializers.ArticleRestoreSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if not request.user.is_agent:
            raise exceptions.PermissionDenied("Agents restore versions.")
        try:
            version = article.versions.get(number=payload.validated_data["version"])
        except ArticleVersion.DoesNotExist:
            raise exceptions.ValidationError({"version": ["This article has no such version."]}) from None
        services.article_restore(actor=request.user, article=article, version=version)
        return _etagged(Response(self.get_serializer(self.get_queryset().get(pk=article.pk)).data))

    @extend_schema(request=serializers.ArticleFeedbackSerializer, responses=serializers.ArticleSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """Say whether the article helped (one verdict per reader; sending again changes it)."""
        article = self.get_object()
        payload = serializers.ArticleFeedbackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.article_feedback_set(actor=request.user, article=article, **payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=article.pk)).data)
