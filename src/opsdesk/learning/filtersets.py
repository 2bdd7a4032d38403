"""One FilterSet per model, shared by the web lists and the API."""

from __future__ import annotations

import django_filters

from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    StepCompletion,
    TrainingRecord,
)


class TrainingRecordFilterSet(django_filters.FilterSet):
    team = django_filters.NumberFilter(field_name="user__team_memberships__team", distinct=True)

    class Meta:
        model = TrainingRecord
        fields = {"user": ["exact"], "skill": ["exact"], "completed_on": ["gte", "lte"]}


class CertificationFilterSet(django_filters.FilterSet):
    team = django_filters.NumberFilter(field_name="user__team_memberships__team", distinct=True)

    class Meta:
        model = Certification
        fields = {"user": ["exact"], "status": ["exact"], "expires_on": ["gte", "lte"]}


class LearningPathFilterSet(django_filters.FilterSet):
    class Meta:
        model = LearningPath
        fields = {"is_active": ["exact"], "owner": ["exact"]}


class LearningPathStepFilterSet(django_filters.FilterSet):
    class Meta:
        model = LearningPathStep
        fields = {"path": ["exact"], "article": ["exact"]}


class LearningPathAssignmentFilterSet(django_filters.FilterSet):
    class Meta:
        model = LearningPathAssignment
        fields = {"path": ["exact"], "user": ["exact"], "team": ["exact"], "due_on": ["gte", "lte"]}


class StepCompletionFilterSet(django_filters.FilterSet):
    path = django_filters.NumberFilter(field_name="step__path")

    class Meta:
        model = StepCompletion
        fields = {"user": ["exact"], "step": ["exact"]}
