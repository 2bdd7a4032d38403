from rest_framework.routers import SimpleRouter

from opsdesk.mail.api import views

router = SimpleRouter()
router.register("mailboxes", views.MailboxViewSet)
router.register("inbound-messages", views.InboundMessageViewSet)

urlpatterns = router.urls
