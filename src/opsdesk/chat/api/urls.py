from rest_framework.routers import SimpleRouter

from opsdesk.chat.api import views

router = SimpleRouter()
router.register("chats", views.ChatSessionViewSet)

urlpatterns = router.urls
