from rest_framework.routers import SimpleRouter

from opsdesk.learning.api import views

router = SimpleRouter()
router.register("training-records", views.TrainingRecordViewSet)
router.register("certifications", views.CertificationViewSet)
router.register("learning-paths", views.LearningPathViewSet)
router.register("learning-path-steps", views.LearningPathStepViewSet)
router.register("learning-path-assignments", views.LearningPathAssignmentViewSet)
router.register("learning-step-completions", views.StepCompletionViewSet)

urlpatterns = router.urls
