from __future__ import annotations

from rest_framework import serializers

from opsdesk.core.api.serializers import StrictModelSerializer
from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    StepCompletion,
    TrainingRecord,
)

STAMPS = ("version", "created_at", "updated_at")


class TrainingRecordSerializer(StrictModelSerializer):
    class Meta:
        model = TrainingRecord
        fields = (
            "id",
            "user",
            "title",
            "provider",
            "completed_on",
            "hours",
            "skill",
            "level_reached",
            "skill_applied_at",
            "notes",
            *STAMPS,
        )
        read_only_fields = ("skill_applied_at",)
        extra_kwargs = {"hours": {"coerce_to_string": False, "min_value": 0}}


class CertificationSerializer(StrictModelSerializer):
    class Meta:
        model = Certification
        fields = (
            "id",
            "user",
            "name",
            "issuer",
            "certificate_id",
            "issued_on",
            "expires_on",
            "skill",
            "status",
            "reminded_for",
            *STAMPS,
        )
        read_only_fields = ("status", "reminded_for")


class LearningPathSerializer(StrictModelSerializer):
    class Meta:
        model = LearningPath
        fields = ("id", "name", "description", "owner", "is_active", *STAMPS)
        read_only_fields = ("owner",)


class LearningPathStepSerializer(StrictModelSerializer):
    position = serializers.IntegerField(min_value=1, max_value=10_000, required=False)

    class Meta:
        model = LearningPathStep
        fields = ("id", "path", "position", "article", "note", *STAMPS)
        # Uniqueness is checked by the model with a clearer message than DRF's.
        validators: list = []


class LearningPathAssignmentSerializer(StrictModelSerializer):
    class Meta:
        model = LearningPathAssignment
        fields = ("id", "path", "user", "team", "due_on", "assigned_by", *STAMPS)
        read_only_fields = ("assigned_by",)
        validators: list = []


class StepCompletionSerializer(StrictModelSerializer):
    class Meta:
        model = StepCompletion
        fields = ("id", "step", "user", "completed_at", *STAMPS)
        read_only_fields = ("user", "completed_at")
        validators: list = []


class ProgressSerializer(serializers.Serializer):
    path = serializers.IntegerField(source="path.pk")
    user = serializers.IntegerField(source="user.pk")
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    due_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    via = serializers.ListField(child=serializers.CharField())
