"""Training records and certifications: lists, detail, edit, delete and "Expiring soon"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import User
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    restrict_choice_fields,
    style_form,
)
from opsdesk.learning import filtersets, services
from opsdesk.learning.forms import CertificationForm, TrainingRecordForm
from opsdesk.learning.models import Certification, TrainingRecord
from opsdesk.learning.services import may_maintain_skills


class PeopleFilterMixin:
    def customize_filter_form(self, form):
        for name in list(form.fields):
            if "__" in name:
                form.fields.pop(name)
        people = User.objects.restrict(self.request.user, "view").filter(
            pk__in=self.restricted_queryset("view").values("user_id")
        )
        form.fields["user"] = forms.ModelChoiceField(people, required=False, label="Person")
        form.fields.pop("team", None)


class OwnRecordEditMixin:
    """Start a new record for oneself (or ``?user=``) and pass the actor to the form."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def get_initial(self):
        initial = super().get_initial()
        raw = self.request.GET.get("user", "")
        initial["user"] = int(raw) if raw.isdigit() else self.request.user.pk
        return initial


# --- training ---------------------------------------------------------------------------------------
class TrainingRecordListView(PeopleFilterMixin, ObjectListView):
    model = TrainingRecord
    filterset_class = filtersets.TrainingRecordFilterSet
    search_fields = ("title", "provider", "user__first_name", "user__last_name", "user__username")
    ordering_fields = {
        "completed": "completed_on",
        "course": "title",
        "hours": "hours",
        "person": "user__last_name",
    }
    default_ordering = "-completed_on"
    select_related = ("user", "skill")


class TrainingRecordDetailView(ObjectDetailView):
    model = TrainingRecord
    select_related = ("user", "skill")

    def extra_context(self, instance: TrainingRecord) -> dict[str, Any]:
        return {
            "edit_url": reverse("learning:trainingrecord_edit", args=[instance.pk]),
            "delete_url": reverse("learning:trainingrecord_delete", args=[instance.pk]),
            "can_apply_skill": instance.skill_pending
            and may_maintain_skills(self.request.user, instance.user),
        }


class TrainingRecordEditView(OwnRecordEditMixin, ObjectEditView):
    model = TrainingRecord
    form_class = TrainingRecordForm
    template_name = "learning/trainingrecord_form.html"

    def build_form(self, data=None):
        # Evidence is a file: bind the upload along with the fields.
        files = self.request.FILES if data is not None else None
        form = self.form_class(data=data, files=files, **self.get_form_kwargs())
        restrict_choice_fields(form, self.request.user)
        style_form(form)
        return form

    def perform_create(self, form):
        return services.training_record_create(actor=self.request.user, data=form.cleaned_data)

    def perform_update(self, form, version):
        return services.training_record_update(
            actor=self.request.user, record=self.object, data=form.cleaned_data, expected_version=version
        )


class TrainingRecordDeleteView(ObjectDeleteView):
    model = TrainingRecord

    def perform_delete(self, version):
        services.training_record_delete(actor=self.request.user, record=self.object, expected_version=version)


@login_required
@require_POST
def training_apply_skill(request, pk: int):
    record = (
        TrainingRecord.objects.restrict(request.user, "view")
        .select_related("user", "skill")
        .filter(pk=pk)
        .first()
    )
    if record is None:
        raise Http404("No training record here.")
    try:
        held = services.training_record_apply_skill(actor=request.user, record=record)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{record.user}'s {held.skill} is now at level {held.level}.")
    return redirect(record)


# --- certifications -------------------------------------------------------------------------------
class CertificationListView(PeopleFilterMixin, ObjectListView):
    model = Certification
    filterset_class = filtersets.CertificationFilterSet
    search_fields = (
        "name",
        "issuer",
        "certificate_id",
        "user__first_name",
        "user__last_name",
        "user__username",
    )
    ordering_fields = {
        "expires": "expires_on",
        "name": "name",
        "issued": "issued_on",
        "person": "user__last_name",
    }
    select_related = ("user",)

    def restricted_queryset(self, action="view"):
        queryset = super().restricted_queryset(action)
        if self.request.GET.get("expiring") == "1":
            return queryset.filter(status__in=("expiring", "expired")).order_by("expires_on", "pk")
        return queryset

    def extra_context(self):
        expiring = self.request.GET.get("expiring") == "1"
        return {"showing_expiring": expiring, "keep_params": [("expiring", "1")] if expiring else []}


class CertificationDetailView(ObjectDetailView):
    model = Certification
    select_related = ("user", "skill")

    def extra_context(self, instance: Certification) -> dict[str, Any]:
        return {
            "edit_url": reverse("learning:certification_edit", args=[instance.pk]),
            "delete_url": reverse("learning:certification_delete", args=[instance.pk]),
        }


class CertificationEditView(OwnRecordEditMixin, ObjectEditView):
    model = Certification
    form_class = CertificationForm

    def perform_create(self, form):
        return services.certification_create(actor=self.request.user, data=form.cleaned_data)

    def perform_update(self, form, version):
        return services.certification_update(
            actor=self.request.user,
            certification=self.object,
            data=form.cleaned_data,
            expected_version=version,
        )


class CertificationDeleteView(ObjectDeleteView):
    model = Certification

    def perform_delete(self, version):
        services.certification_delete(
            actor=self.request.user, certification=self.object, expected_version=version
        )
