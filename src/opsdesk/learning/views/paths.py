"""Learning paths: the catalogue, a path's steps and who has it, assigning, marking a step read,
"My learning" for agents and the overview of who completed what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, may
from opsdesk.learning import filtersets, selectors, services
from opsdesk.learning.forms import LearningPathAssignmentForm, LearningPathForm, LearningPathStepForm
from opsdesk.learning.models import LearningPath, LearningPathAssignment, LearningPathStep
from opsdesk.learning.selectors import path_progress


class LearningPathListView(ObjectListView):
    model = LearningPath
    filterset_class = filtersets.LearningPathFilterSet
    search_fields = ("name", "description")
    ordering_fields = {"name": "name"}
    select_related = ("owner",)

    def customize_filter_form(self, form):
        form.fields.pop("owner", None)


class LearningPathDetailView(ObjectDetailView):
    model = LearningPath
    select_related = ("owner",)

    def extra_context(self, instance: LearningPath) -> dict[str, Any]:
        user = self.request.user
        done, total = path_progress(path=instance, user=user)
        assignments = (
            LearningPathAssignment.objects.restrict(user, "view")
            .filter(path=instance)
            .select_related("user", "team")
        )
        return {
            "steps": selectors.path_steps_for(user=user, path=instance),
            "my_done": done,
            "my_total": total,
            "my_percent": round(100 * done / total) if total else 0,
            "assignments": [(a, may(user, "delete", a)) for a in assignments],
            "progress": selectors.progress_overview(actor=user, path=instance),
            "can_edit_steps": may(user, "change", instance),
            "can_assign": user_can(user, "add", LearningPathAssignment) and instance.is_active,
            "edit_url": reverse("learning:learningpath_edit", args=[instance.pk]),
            "delete_url": reverse("learning:learningpath_delete", args=[instance.pk]),
        }


class LearningPathEditView(ObjectEditView):
    model = LearningPath
    form_class = LearningPathForm

    def perform_create(self, form):
        return services.learning_path_create(actor=self.request.user, data=form.cleaned_data)


class LearningPathDeleteView(ObjectDeleteView):
    model = LearningPath


class PathChildMixin:
    """Steps and assignments are edited from their path's page and go back there."""

    def dispatch(self, request, *args, **kwargs):
        self.path = LearningPath.objects.restrict(request.user, "view").filter(pk=kwargs["path_pk"]).first()
        if self.path is None:
            raise Http404("No learning path here.")
        return super().dispatch(request, *args, **kwargs)

    def restricted_queryset(self, action="view"):
        return super().restricted_queryset(action).filter(path=self.path)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user, "path": self.path}

    def success_url(self, instance=None):
        return self.path.get_absolute_url()

    def cancel_url(self):
        return self.path.get_absolute_url()

    def list_url(self):
        return self.path.get_absolute_url()


class LearningPathStepEditView(PathChildMixin, ObjectEditView):
    model = LearningPathStep
    form_class = LearningPathStepForm

    def perform_create(self, form):
        return services.learning_path_step_create(
            actor=self.request.user, data={**form.cleaned_data, "path": self.path}
        )


class LearningPathStepDeleteView(PathChildMixin, ObjectDeleteView):
    model = LearningPathStep


class LearningPathAssignmentEditView(PathChildMixin, ObjectEditView):
    model = LearningPathAssignment
    form_class = LearningPathAssignmentForm

    def perform_create(self, form):
        return services.learning_path_assign(
            actor=self.request.user, data={**form.cleaned_data, "path": self.path}
        )


class LearningPathAssignmentDeleteView(PathChildMixin, ObjectDeleteView):
    model = LearningPathAssignment


@login_required
@require_POST
def step_toggle(request, path_pk: int, pk: int):
    """Mark a step read (or, with ``undo``, not read) for the signed-in agent."""
    step = (
        LearningPathStep.objects.restrict(request.user, "view")
        .select_related("path")
        .filter(pk=pk, path_id=path_pk)
        .first()
    )
    if step is None:
        raise Http404("No such step.")
    try:
        if request.POST.get("undo"):
            services.step_uncomplete(actor=request.user, step=step)
        else:
            services.step_complete(actor=request.user, step=step)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next", "")
    return redirect(target if target == reverse("learning:my_learning") else step.path.get_absolute_url())


@login_required
def my_learning(request):
    """An agent's own page: paths set for them, their certifications and training."""
    user = request.user
    if not user.is_agent:
        raise PermissionDenied("Learning is for support staff.")
    context = {
        "paths": selectors.my_learning(user=user),
        "certifications": selectors.certification_list_for(user=user).filter(user=user),
        "training": selectors.training_list_for(user=user).filter(user=user)[:10],
        "expiring": selectors.certifications_expiring_for(user=user).exclude(user=user)[:20],
    }
    return render(request, "learning/my_learning.html", context)


@login_required
def progress_overview(request):
    """Managers' and leads' view of who completed what, per path."""
    user = request.user
    if not user.is_agent:
        raise PermissionDenied("Learning is for support staff.")
    rows = selectors.progress_overview(actor=user)
    return render(request, "learning/progress_overview.html", {"rows": rows})
