from django.urls import path

from opsdesk.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.preferences, name="preferences"),
    path("templates/", views.templates, name="templates"),
    path("templates/<str:event>/<str:language>/", views.template_edit, name="template_edit"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/", views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
]
