from django.urls import path

from opsdesk.learning import views

app_name = "learning"


def crud(prefix: str, name: str, list_view, detail_view, edit_view, delete_view) -> list:
    return [
        path(f"{prefix}/", list_view.as_view(), name=f"{name}_list"),
        path(f"{prefix}/add/", edit_view.as_view(), name=f"{name}_add"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", edit_view.as_view(), name=f"{name}_edit"),
        path(f"{prefix}/<int:pk>/delete/", delete_view.as_view(), name=f"{name}_delete"),
    ]


urlpatterns = [
    path("", views.my_learning, name="my_learning"),
    path("skills-matrix/", views.skills_matrix, name="skills_matrix"),
    path("progress/", views.progress_overview, name="progress"),
    *crud(
        "training",
        "trainingrecord",
        views.TrainingRecordListView,
        views.TrainingRecordDetailView,
        views.TrainingRecordEditView,
        views.TrainingRecordDeleteView,
    ),
    path("training/<int:pk>/apply-skill/", views.training_apply_skill, name="trainingrecord_apply_skill"),
    *crud(
        "certifications",
        "certification",
        views.CertificationListView,
        views.CertificationDetailView,
        views.CertificationEditView,
        views.CertificationDeleteView,
    ),
    *crud(
        "paths",
        "learningpath",
        views.LearningPathListView,
        views.LearningPathDetailView,
        views.LearningPathEditView,
        views.LearningPathDeleteView,
    ),
    path(
        "paths/<int:path_pk>/steps/add/",
        views.LearningPathStepEditView.as_view(),
        name="learningpathstep_add",
    ),
    path(
        "paths/<int:path_pk>/steps/<int:pk>/edit/",
        views.LearningPathStepEditView.as_view(),
        name="learningpathstep_edit",
    ),
    path(
        "paths/<int:path_pk>/steps/<int:pk>/delete/",
        views.LearningPathStepDeleteView.as_view(),
        name="learningpathstep_delete",
    ),
    path("paths/<int:path_pk>/steps/<int:pk>/read/", views.step_toggle, name="learningpathstep_read"),
    path(
        "paths/<int:path_pk>/assign/",
        views.LearningPathAssignmentEditView.as_view(),
        name="learningpathassignment_add",
    ),
    path(
        "paths/<int:path_pk>/assignments/<int:pk>/delete/",
        views.LearningPathAssignmentDeleteView.as_view(),
        name="learningpathassignment_delete",
    ),
]
