from django.urls import path

from opsdesk.sla.views import policies

app_name = "sla"

urlpatterns = [
    path("policies/", policies.PolicyListView.as_view(), name="policy_list"),
    path("policies/add/", policies.PolicyEditView.as_view(), name="policy_create"),
    path("policies/<int:pk>/", policies.PolicyDetailView.as_view(), name="policy_detail"),
    path("policies/<int:pk>/edit/", policies.PolicyEditView.as_view(), name="policy_edit"),
    path("policies/<int:pk>/delete/", policies.PolicyDeleteView.as_view(), name="policy_delete"),
    path("targets/add/", policies.TargetEditView.as_view(), name="target_create"),
    path("targets/<int:pk>/edit/", policies.TargetEditView.as_view(), name="target_edit"),
    path("targets/<int:pk>/delete/", policies.TargetDeleteView.as_view(), name="target_delete"),
]
