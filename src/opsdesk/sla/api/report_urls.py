from django.urls import path

from opsdesk.sla.api.reports import ComplianceReportView

urlpatterns = [
    path("sla/report/", ComplianceReportView.as_view(), name="sla-report"),
]
