from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from opsdesk.api import views

router = SimpleRouter()
router.register("audit", views.AuditEntryViewSet)
router.register("security-events", views.SecurityEventViewSet)
router.register("jobs", views.JobViewSet)

v1 = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("", include("opsdesk.accounts.api.urls")),
    path("", include("opsdesk.portfolio.api.urls")),
    path("", include("opsdesk.tickets.api.urls")),
    path("search/", include("opsdesk.core.api.search")),
    path("", include("opsdesk.sla.api.urls")),
    path("", include("opsdesk.sla.api.report_urls")),
    path("", include("opsdesk.mail.api.urls")),
    path("", include("opsdesk.notifications.api.urls")),
    path("", include("opsdesk.chat.api.urls")),
    path("", include("opsdesk.webhooks.api.urls")),
    path("", include("opsdesk.knowledge.api.urls")),
    path("", include("opsdesk.catalog.api.urls")),
    path("", include("opsdesk.learning.api.urls")),
    *router.urls,
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from /api/docs/?script=, so script-src 'self' suffices.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
