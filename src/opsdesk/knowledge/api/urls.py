from rest_framework.routers import SimpleRouter

from opsdesk.knowledge.api import views

router = SimpleRouter()
router.register("articles", views.ArticleViewSet)

urlpatterns = [*router.urls]
