from rest_framework.routers import SimpleRouter

from opsdesk.accounts.api import views

router = SimpleRouter()
router.register("users", views.UserViewSet)
router.register("organizations", views.OrganizationViewSet)
router.register("locations", views.LocationViewSet)
router.register("teams", views.TeamViewSet)
router.register("skills", views.SkillViewSet)
router.register("agent-skills", views.AgentSkillViewSet)
router.register("shifts", views.ShiftViewSet)
router.register("absences", views.AbsenceViewSet)

urlpatterns = router.urls
