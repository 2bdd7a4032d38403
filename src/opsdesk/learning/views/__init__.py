"""Screens of the learning app (thin: selectors read, services write)."""

from opsdesk.learning.views.matrix import skills_matrix
from opsdesk.learning.views.paths import (
    LearningPathAssignmentDeleteView,
    LearningPathAssignmentEditView,
    LearningPathDeleteView,
    LearningPathDetailView,
    LearningPathEditView,
    LearningPathListView,
    LearningPathStepDeleteView,
    LearningPathStepEditView,
    my_learning,
    progress_overview,
    step_toggle,
)
from opsdesk.learning.views.records import (
    CertificationDeleteView,
    CertificationDetailView,
    CertificationEditView,
    CertificationListView,
    TrainingRecordDeleteView,
    TrainingRecordDetailView,
    TrainingRecordEditView,
    TrainingRecordListView,
    training_apply_skill,
)

__all__ = [
    "CertificationDeleteView",
    "CertificationDetailView",
    "CertificationEditView",
    "CertificationListView",
    "LearningPathAssignmentDeleteView",
    "LearningPathAssignmentEditView",
    "LearningPathDeleteView",
    "LearningPathDetailView",
    "LearningPathEditView",
    "LearningPathListView",
    "LearningPathStepDeleteView",
    "LearningPathStepEditView",
    "TrainingRecordDeleteView",
    "TrainingRecordDetailView",
    "TrainingRecordEditView",
    "TrainingRecordListView",
    "my_learning",
    "progress_overview",
    "skills_matrix",
    "step_toggle",
    "training_apply_skill",
]
