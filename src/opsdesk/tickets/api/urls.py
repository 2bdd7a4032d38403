from django.urls import path
from rest_framework.routers import SimpleRouter

from opsdesk.tickets.api import views

router = SimpleRouter()
router.register("tickets", views.TicketViewSet)
router.register("ticket-attachments", views.TicketAttachmentViewSet)
router.register("problems", views.ProblemViewSet)
router.register("categories", views.CategoryViewSet)

urlpatterns = [
    *router.urls,
    path("priority-matrix/", views.PriorityMatrixView.as_view(), name="priority-matrix"),
    path(
        "priority-matrix/<int:impact>/<int:urgency>/",
        views.PriorityCellView.as_view(),
        name="priority-matrix-cell",
    ),
]
