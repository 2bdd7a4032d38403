from django.urls import re_path
from rest_framework.routers import SimpleRouter

from opsdesk.sla.api import views

router = SimpleRouter()
router.register("sla-policies", views.PolicyViewSet)
router.register("sla-targets", views.TargetViewSet)
router.register("sla-timers", views.TimerViewSet)

urlpatterns = [
    *router.urls,
    # Tickets are addressed by number in the API, as /tickets/{number}/ is.
    re_path(r"^tickets/(?P<number>[A-Za-z0-9]+)/sla/$", views.TicketClockView.as_view(), name="ticket-sla"),
]
