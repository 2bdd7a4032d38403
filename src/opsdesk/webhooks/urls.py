from django.urls import path

from opsdesk.webhooks.views import deliveries, inbound, sources

app_name = "webhooks"

urlpatterns = [
    path("in/<slug:slug>/", inbound.receive, name="receive"),
    path("sources/", sources.SourceListView.as_view(), name="source_list"),
    path("sources/add/", sources.SourceEditView.as_view(), name="source_create"),
    path("sources/<int:pk>/", sources.SourceDetailView.as_view(), name="source_detail"),
    path("sources/<int:pk>/edit/", sources.SourceEditView.as_view(), name="source_edit"),
    path("sources/<int:pk>/rotate/", sources.SourceRotateView.as_view(), name="source_rotate"),
    path("sources/<int:pk>/delete/", sources.SourceDeleteView.as_view(), name="source_delete"),
    path("deliveries/", deliveries.DeliveryListView.as_view(), name="delivery_list"),
    path("deliveries/<int:pk>/", deliveries.DeliveryDetailView.as_view(), name="delivery_detail"),
    path("deliveries/<int:pk>/replay/", deliveries.DeliveryReplayView.as_view(), name="delivery_replay"),
]
