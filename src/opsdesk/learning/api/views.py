from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from opsdesk.core.api.views import RestrictedModelViewSet
from opsdesk.learning import filtersets, selectors, services
from opsdesk.learning.api import serializers
from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    StepCompletion,
    TrainingRecord,
)


class TrainingRecordViewSet(RestrictedModelViewSet):
    """Courses completed: agents record their own, team leads their members', managers anyone's.
    A skill and level reached raise the agent's skill once a lead or manager confirms it."""

    queryset = TrainingRecord.objects.all()
    serializer_class = serializers.TrainingRecordSerializer
    filterset_class = filtersets.TrainingRecordFilterSet
    search_fields = ("title", "provider")
    ordering_fields = ("id", "completed_on", "hours")

    def create_record(self, data: dict[str, Any]) -> TrainingRecord:
        return services.training_record_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, version):
        return services.training_record_update(
            actor=self.request.user, record=instance, data=data, expected_version=version
        )

    def delete_record(self, instance, version):
        services.training_record_delete(actor=self.request.user, record=instance, expected_version=version)


class CertificationViewSet(RestrictedModelViewSet):
    """Certificates and their expiry; ``status`` is kept by the daily sweep (``?status=expiring``)."""

    queryset = Certification.objects.all()
    serializer_class = serializers.CertificationSerializer
    filterset_class = filtersets.CertificationFilterSet
    search_fields = ("name", "issuer", "certificate_id")
    ordering_fields = ("id", "expires_on", "issued_on")

    def create_record(self, data):
        return services.certification_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, version):
        return services.certification_update(
            actor=self.request.user, certification=instance, data=data, expected_version=version
        )

    def delete_record(self, instance, version):
        services.certification_delete(
            actor=self.request.user, certification=instance, expected_version=version
        )


class LearningPathViewSet(RestrictedModelViewSet):
    queryset = LearningPath.objects.all()
    serializer_class = serializers.LearningPathSerializer
    filterset_class = filtersets.LearningPathFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "name")

    def create_record(self, data):
        return services.learning_path_create(actor=self.request.user, data=data)

    @extend_schema(responses=serializers.ProgressSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def progress(self, request, pk=None):
        """Each assigned agent's progress (those the caller may follow), team assignments expanded."""
        rows = selectors.progress_overview(actor=request.user, path=self.get_object())
        return Response(serializers.ProgressSerializer(rows, many=True).data)


class LearningPathStepViewSet(RestrictedModelViewSet):
    queryset = LearningPathStep.objects.all()
    serializer_class = serializers.LearningPathStepSerializer
    filterset_class = filtersets.LearningPathStepFilterSet
    ordering_fields = ("id", "position")

    def create_record(self, data):
        return services.learning_path_step_create(actor=self.request.user, data=data)


class LearningPathAssignmentViewSet(RestrictedModelViewSet):
    queryset = LearningPathAssignment.objects.all()
    serializer_class = serializers.LearningPathAssignmentSerializer
    filterset_class = filtersets.LearningPathAssignmentFilterSet
    ordering_fields = ("id", "due_on")

    def create_record(self, data):
        return services.learning_path_assign(actor=self.request.user, data=data)


class StepCompletionViewSet(RestrictedModelViewSet):
    """Steps read: POST ``{"step": id}`` marks a step read for the caller; DELETE takes it back."""

    queryset = StepCompletion.objects.all()
    serializer_class = serializers.StepCompletionSerializer
    filterset_class = filtersets.StepCompletionFilterSet
    http_method_names = ["get", "post", "delete", "head", "options"]
    ordering_fields = ("id", "completed_at")

    def create_record(self, data):
        return services.step_complete(actor=self.request.user, step=data["step"])
