from rest_framework.routers import SimpleRouter

from opsdesk.webhooks.api import views

router = SimpleRouter()
router.register("webhook-sources", views.WebhookSourceViewSet)
router.register("webhook-deliveries", views.WebhookDeliveryViewSet)

urlpatterns = router.urls
