from rest_framework.routers import SimpleRouter

from opsdesk.portfolio.api import views

router = SimpleRouter()
router.register("calendars", views.CalendarViewSet)
router.register("services", views.ServiceViewSet)
router.register("service-support-tiers", views.SupportTierViewSet)
router.register("service-locations", views.ServiceLocationViewSet)
router.register("service-objectives", views.ServiceObjectiveViewSet)
router.register("offerings", views.OfferingViewSet)
router.register("objectives", views.ObjectiveViewSet)
router.register("kpis", views.KpiViewSet)
router.register("providers", views.ProviderViewSet)
router.register("provider-contacts", views.ProviderContactViewSet)
router.register("contracts", views.ContractViewSet)
router.register("contract-documents", views.ContractDocumentViewSet)
router.register("evaluations", views.EvaluationViewSet)
router.register("support-policies", views.PolicyViewSet)
router.register("support-policy-versions", views.PolicyVersionViewSet)

urlpatterns = router.urls
