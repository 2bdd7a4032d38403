from django.contrib import admin
from django.urls import include, path

from opsdesk.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("opsdesk.api.urls")),
    path("people/", include("opsdesk.accounts.urls")),
    path("portfolio/", include("opsdesk.portfolio.urls")),
    path("tickets/", include("opsdesk.tickets.urls")),
    path("sla/", include("opsdesk.sla.urls")),
    path("sla/reports/", include("opsdesk.sla.report_urls")),
    path("mail/", include("opsdesk.mail.urls")),
    path("notifications/", include("opsdesk.notifications.urls")),
    path("chat/", include("opsdesk.chat.urls")),
    path("webhooks/", include("opsdesk.webhooks.urls")),
    path("kb/", include("opsdesk.knowledge.urls")),
    path("catalog/", include("opsdesk.catalog.urls")),
    path("learning/", include("opsdesk.learning.urls")),
    path("", include("opsdesk.web.urls")),
]

handler400 = "opsdesk.web.views.errors.bad_request"
handler403 = "opsdesk.web.views.errors.permission_denied"
handler404 = "opsdesk.web.views.errors.page_not_found"
handler500 = "opsdesk.web.views.errors.server_error"
