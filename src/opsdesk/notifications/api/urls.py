from django.urls import path
from rest_framework.routers import SimpleRouter

from opsdesk.notifications.api import views

router = SimpleRouter()
router.register("outbound-messages", views.OutboundMessageViewSet)

urlpatterns = [
    path(
        "notification-preferences/",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
]
