"""The knowledge base in the API: articles (Markdown in, sanitized HTML out), their versions,
lifecycle moves, restores and readers' feedback."""

from __future__ import annotations

from rest_framework import serializers

from opsdesk.accounts.models import Team, User
from opsdesk.core.api.serializers import StrictModelSerializer
from opsdesk.knowledge.choices import ArticleStatus
from opsdesk.knowledge.models import Article, ArticleVersion
from opsdesk.portfolio.models import Service
from opsdesk.tickets.models import Category

MAX_BODY = 100_000


def _restrict(field: serializers.Field, model, request) -> None:
    relation = getattr(field, "child_relation", field)
    if request is not None and request.user.is_authenticated:
        relation.queryset = model.objects.restrict(request.user, "view")


class ArticleSerializer(StrictModelSerializer):
    """A knowledge article. ``body`` is Markdown; ``body_html`` is its sanitized rendering.
    Change ``status`` with POST …/transition/; every edit of title or body is a new version."""

    number = serializers.CharField(read_only=True)
    body = serializers.CharField(max_length=MAX_BODY, required=False, allow_blank=True)
    body_html = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=ArticleStatus.choices, read_only=True)
    language = serializers.RegexField(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$", max_length=10, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=20, required=False, help_text="Words."
    )
    note = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Kept with the new version.",
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    reviewers = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    categories = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), many=True, required=False
    )
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), many=True, required=False)

    class Meta:
        model = Article
        fields = (
            "id",
            "number",
            "title",
            "body",
            "body_html",
            "audience",
            "team",
            "status",
            "language",
            "categories",
            "tags",
            "services",
            "owner",
            "reviewers",
            "review_by",
            "review_flagged_at",
            "problem",
            "published_at",
            "retired_at",
            "current_version",
            "view_count",
            "helpful_count",
            "not_helpful_count",
            "resolved_count",
            "deflection_count",
            "note",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = (
            "id",
            "review_flagged_at",
            "problem",
            "published_at",
            "retired_at",
            "current_version",
            "view_count",
            "helpful_count",
            "not_helpful_count",
            "resolved_count",
            "deflection_count",
            "created_at",
            "updated_at",
        )
        extra_kwargs = {"title": {"max_length": 200}}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for name, model in (
            ("team", Team),
            ("owner", User),
            ("reviewers", User),
            ("categories", Category),
            ("services", Service),
        ):
            _restrict(fields[name], model, request)
        return fields

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give the article a title.")
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not getattr(request.user, "is_agent", False):
            # Requesters read the article, not how the desk keeps it.
            for name in ("owner", "reviewers", "review_by", "review_flagged_at", "problem", "team"):
                data.pop(name, None)
        return data


class ArticleVersionSerializer(serializers.ModelSerializer):
    author = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ArticleVersion
        fields = ("number", "title", "body", "author", "note", "created_at")
        read_only_fields = fields


class ArticleTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=ArticleStatus.choices)


class ArticleRestoreSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class ArticleFeedbackSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        unknown = set(data) - {"helpful", "comment"}
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        if "helpful" in data and not isinstance(data["helpful"], bool):
            raise serializers.ValidationError({"helpful": ["Send true or false."]})
        if "comment" in data and not isinstance(data["comment"], str):
            raise serializers.ValidationError({"comment": ["Send a string."]})
        return super().to_internal_value(data)
