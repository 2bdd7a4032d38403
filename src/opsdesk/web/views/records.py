"""Read-only screens over the platform's own records: audit trail, security log, jobs.

Auditors, managers and administrators read them; anyone else gets 403 (no rule grants them).
"""

from __future__ import annotations

from django import forms

from opsdesk.core import selectors
from opsdesk.core.models import AuditEntry, Job, SecurityEvent
from opsdesk.core.views import ObjectDetailView, ObjectListView
from opsdesk.web.filtersets import AuditEntryFilterSet, JobFilterSet, SecurityEventFilterSet

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def _date_inputs(form: forms.BaseForm) -> None:
    for name in ("since", "until"):
        if name in form.fields:
            form.fields[name].widget = DATE_INPUT


class AuditLogView(ObjectListView):
    model = AuditEntry
    filterset_class = AuditEntryFilterSet
    template_name = "web/audit_list.html"
    search_fields = ("object_repr", "actor_name")
    ordering_fields = {"at": "at", "actor": "actor_name", "object": "object_repr"}

    def restricted_queryset(self, action="view"):
        return selectors.audit_entries_for(user=self.request.user)

    def customize_filter_form(self, form):
        _date_inputs(form)


class SecurityLogView(ObjectListView):
    model = SecurityEvent
    filterset_class = SecurityEventFilterSet
    template_name = "web/security_log.html"
    search_fields = ("username", "ip", "path")
    ordering_fields = {"at": "at", "kind": "kind", "username": "username"}

    def restricted_queryset(self, action="view"):
        return selectors.security_events_for(user=self.request.user)

    def customize_filter_form(self, form):
        _date_inputs(form)


class JobListView(ObjectListView):
    model = Job
    filterset_class = JobFilterSet
    template_name = "web/job_list.html"
    search_fields = ("name",)
    ordering_fields = {"id": "id", "name": "name", "status": "status", "started": "started_at"}

    def restricted_queryset(self, action="view"):
        return selectors.jobs_for(user=self.request.user)


class JobDetailView(ObjectDetailView):
    """Reads the full row (log and error included) through the same restriction."""

    model = Job
    template_name = "web/job_detail.html"
    list_url_name = "job_list"
