from rest_framework.routers import SimpleRouter

from opsdesk.catalog.api import views

router = SimpleRouter()
router.register("catalog/categories", views.CatalogCategoryViewSet)
router.register("catalog/items", views.CatalogItemViewSet)
router.register("catalog/requests", views.CatalogRequestViewSet)
router.register("approvals", views.ApprovalViewSet)
router.register("approval-groups", views.ApprovalGroupViewSet)
router.register("approval-delegations", views.ApprovalDelegationViewSet)
router.register("request-tasks", views.RequestTaskViewSet)

urlpatterns = router.urls
