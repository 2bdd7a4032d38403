from django.urls import path
from rest_framework.routers import SimpleRouter

from opsdesk.sla.api import views

router = SimpleRouter()
router.register("sla-policies", views.PolicyViewSet)
router.register("sla-targets", views.TargetViewSet)
router.register("sla-timers", views.TimerViewSet)

urlpatterns = [
    *router.urls,
    path("tickets/<str:number>/sla/", views.TicketClockView.as_view(), name="ticket-sla"),
]
