from django.urls import path

from opsdesk.sla.views import reports

app_name = "sla_reports"
urlpatterns = [
    path("", reports.compliance, name="compliance"),
    path("compliance.csv", reports.compliance_csv, name="compliance_csv"),
    path("my-organization/", reports.organization, name="organization"),
]
