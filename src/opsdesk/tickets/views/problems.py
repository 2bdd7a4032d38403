"""Problems and known errors, and the canned responses agents keep: generic restricted views
whose writes go through the services."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from opsdesk.core.services import record_create, record_update
from opsdesk.core.views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from opsdesk.tickets import selectors, services
from opsdesk.tickets.filtersets import ProblemFilterSet
from opsdesk.tickets.forms import CannedResponseForm, ProblemForm
from opsdesk.tickets.models import CannedResponse, Problem
from opsdesk.tickets.views.common import decorate

INCIDENT_LIMIT = 50


class ProblemUrls:
    def problem_url(self, problem: Problem) -> str:
        return reverse("tickets:problem_detail", args=[problem.pk])


class ProblemListView(ObjectListView):
    model = Problem
    filterset_class = ProblemFilterSet
    search_fields = ("number", "title", "root_cause", "workaround")
    select_related = ("service", "assigned_team")
    ordering_fields = {
        "number": "id",
        "title": "title",
        "status": "status",
        "priority": "priority",
        "service": "service__name",
        "updated": "updated_at",
    }
    default_ordering = "-id"

    def customize_filter_form(self, form):
        # People are chosen on the problem page; the list filters by what a problem is.
        form.fields.pop("assignee", None)
        form.fields["known_error"].label = "Known error"
        form.fields["assigned_team"].label = "Team"


class ProblemDetailView(ObjectDetailView):
    model = Problem
    select_related = ("service", "category", "category__parent", "assigned_team", "assignee")

    def extra_context(self, instance: Problem) -> dict[str, Any]:
        incidents = selectors.ticket_list_for(user=self.request.user).filter(problem=instance)
        return {
            "incidents": decorate(incidents.order_by("-id")[:INCIDENT_LIMIT]),
            "incident_total": incidents.count(),
            "edit_url": reverse("tickets:problem_edit", args=[instance.pk]),
        }


class ProblemEditView(ProblemUrls, ObjectEditView):
    model = Problem
    form_class = ProblemForm

    def perform_create(self, form):
        data = dict(form.cleaned_data)
        return services.problem_create(actor=self.request.user, title=data.pop("title"), **data)

    def perform_update(self, form, version):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        return services.problem_update(
            actor=self.request.user, problem=self.object, data=data, expected_version=version
        )

    def success_url(self, instance):
        return self.problem_url(instance)

    def cancel_url(self):
        return self.problem_url(self.object) if self.object is not None else self.list_url()


# --- canned responses ----------------------------------------------------------------------------
class CannedResponseListView(ObjectListView):
    model = CannedResponse
    search_fields = ("title", "body")
    select_related = ("team", "owner")
    ordering_fields = {"title": "title", "team": "team__name", "updated": "updated_at"}


class CannedResponseEditView(ObjectEditView):
    model = CannedResponse
    form_class = CannedResponseForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def _data(self, form) -> dict[str, Any]:
        # The form decided whose the response is (a team's, or its author's).
        return {**form.cleaned_data, "owner": form.instance.owner}

    def perform_create(self, form):
        return record_create(model=CannedResponse, actor=self.request.user, data=self._data(form))

    def perform_update(self, form, version):
        return record_update(
            instance=self.object, actor=self.request.user, data=self._data(form), expected_version=version
        )

    def success_url(self, instance):
        return reverse("tickets:cannedresponse_list")


class CannedResponseDeleteView(ObjectDeleteView):
    model = CannedResponse
