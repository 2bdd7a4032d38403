"""Who delivers with us: providers and their contacts, contracts with documents, and sourcing
evaluations (criteria, scores, ranking, decision)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    may,
    style_form,
)
from opsdesk.portfolio import filtersets, selectors, services
from opsdesk.portfolio.choices import EvaluationStatus
from opsdesk.portfolio.forms import (
    ContractDocumentForm,
    ContractForm,
    CriteriaForm,
    DecisionForm,
    EvaluationForm,
    ProviderContactForm,
    ProviderForm,
    ScoreGridForm,
)
from opsdesk.portfolio.models import (
    Contract,
    ContractDocument,
    EvaluationCandidate,
    EvaluationScore,
    Offering,
    Provider,
    ProviderContact,
    Service,
    SourcingEvaluation,
)
from opsdesk.portfolio.views.common import PortfolioUrls, get_visible

NOTICE_SOON_DAYS = 90


# --- providers ------------------------------------------------------------------------------------
class ProviderListView(PortfolioUrls, ObjectListView):
    url_base = "provider"
    model = Provider
    filterset_class = filtersets.ProviderFilterSet
    search_fields = ("name", "notes")
    ordering_fields = {
        "name": "name",
        "kind": "kind",
        "contracts": "contract_count",
        "services": "service_count",
    }

    def restricted_queryset(self, action="view"):
        return (
            super()
            .restricted_queryset(action)
            .annotate(
                contract_count=Count("contracts", distinct=True),
                service_count=Count("services", distinct=True),
            )
        )

    def customize_filter_form(self, form):
        form.fields.pop("service", None)

    def extra_context(self):
        user = self.request.user
        return {
            "export_url": reverse("portfolio:provider_export"),
            "import_url": reverse("portfolio:provider_import") if user_can(user, "add", Provider) else None,
        }


class ProviderDetailView(PortfolioUrls, ObjectDetailView):
    url_base = "provider"
    model = Provider

    def extra_context(self, instance: Provider) -> dict[str, Any]:
        user = self.request.user
        return {
            "contacts": list(ProviderContact.objects.restrict(user, "view").filter(provider=instance)),
            "contracts": list(
                Contract.objects.restrict(user, "view").filter(provider=instance).select_related("owner")
            ),
            "services": list(Service.objects.restrict(user, "view").filter(providers=instance)),
            "evaluations": list(
                SourcingEvaluation.objects.restrict(user, "view")
                .filter(candidates__provider=instance)
                .distinct()
            ),
            "can_add_contact": may(user, "change", instance),
            "can_add_contract": user_can(user, "add", Contract),
            "today": timezone.localdate(),
            "edit_url": reverse("portfolio:provider_edit", args=[instance.pk]),
            "delete_url": reverse("portfolio:provider_delete", args=[instance.pk]),
        }


class ProviderEditView(PortfolioUrls, ObjectEditView):
    url_base = "provider"
    model = Provider
    form_class = ProviderForm


class ProviderDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "provider"
    model = Provider


class ProviderContactEditView(PortfolioUrls, ObjectEditView):
    url_base = "providercontact"
    model = ProviderContact
    form_class = ProviderContactForm
    select_related = ("provider",)

    def get_initial(self):
        raw = self.request.GET.get("provider", "")
        return {"provider": int(raw)} if raw.isdigit() else {}

    def success_url(self, instance):
        return instance.provider.get_absolute_url() + "#contacts"

    def cancel_url(self):
        if self.object is not None:
            return self.object.provider.get_absolute_url()
        return reverse("portfolio:provider_list")


class ProviderContactDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "providercontact"
    model = ProviderContact
    select_related = ("provider",)

    def success_url(self):
        return self.object.provider.get_absolute_url() + "#contacts"

    def cancel_url(self):
        return self.success_url()


# --- contracts ------------------------------------------------------------------------------------
class ContractListView(PortfolioUrls, ObjectListView):
    url_base = "contract"
    model = Contract
    filterset_class = filtersets.ContractFilterSet
    search_fields = ("reference", "provider__name", "notes")
    ordering_fields = {
        "reference": "reference",
        "provider": "provider__name",
        "end": "end_date",
        "cost": "cost",
    }
    select_related = ("provider", "owner")

    def customize_filter_form(self, form):
        for name in ("service", "end_date__gte", "end_date__lte"):
            form.fields.pop(name, None)

    def extra_context(self):
        return {"today": timezone.localdate(), "soon_days": NOTICE_SOON_DAYS}


class ContractDetailView(PortfolioUrls, ObjectDetailView):
    url_base = "contract"
    model = Contract
    select_related = ("provider", "owner")

    def extra_context(self, instance: Contract) -> dict[str, Any]:
        user = self.request.user
        can_attach = may(user, "change", instance)
        upload_form = None
        if can_attach:
            upload_form = ContractDocumentForm()
            style_form(upload_form)
        return {
            "documents": list(
                ContractDocument.objects.restrict(user, "view")
                .filter(contract=instance)
                .select_related("uploaded_by")
            ),
            "services": list(Service.objects.restrict(user, "view").filter(contracts=instance)),
            "offerings": list(
                Offering.objects.restrict(user, "view").filter(contracts=instance).select_related("service")
            ),
            "upload_form": upload_form,
            "today": timezone.localdate(),
            "edit_url": reverse("portfolio:contract_edit", args=[instance.pk]),
            "delete_url": reverse("portfolio:contract_delete", args=[instance.pk]),
        }


class ContractEditView(PortfolioUrls, ObjectEditView):
    url_base = "contract"
    model = Contract
    form_class = ContractForm
    select_related = ("provider",)

    def get_initial(self):
        raw = self.request.GET.get("provider", "")
        return {"provider": int(raw)} if raw.isdigit() else {}


class ContractDeleteView(PortfolioUrls, ObjectDeleteView):
    url_base = "contract"
    model = Contract


@require_POST
@login_required
def contract_document_add(request, pk: int):
    contract = get_visible(Contract.objects.restrict(request.user, "view"), pk, "contract")
    form = ContractDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to attach.")
        return redirect(contract)
    try:
        document = services.contract_document_add(
            actor=request.user, contract=contract, upload=form.cleaned_data["file"]
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{document.original_name} attached.")
    return HttpResponseRedirect(contract.get_absolute_url() + "#documents")


@login_required
def contract_document_download(request, pk: int):
    """The file under its original name, always as a download and never sniffed into HTML."""
    document = get_visible(ContractDocument.objects.restrict(request.user, "view"), pk, "document")
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file of this document is missing from storage.") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=document.original_name, content_type=document.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- sourcing evaluations -------------------------------------------------------------------------
class EvaluationListView(PortfolioUrls, ObjectListView):
    url_base = "evaluation"
    model = SourcingEvaluation
    search_fields = ("name", "description")
    ordering_fields = {"name": "name", "status": "status", "created": "created_at"}
    default_ordering = "-created_at"
    select_related = ("service", "chosen_provider")

    def restricted_queryset(self, action="view"):
        return super().restricted_queryset(action).annotate(candidate_count=Count("candidates"))


class EvaluationCreateView(PortfolioUrls, ObjectEditView):
    url_base = "evaluation"
    model = SourcingEvaluation
    form_class = EvaluationForm

    def get_initial(self):
        raw = self.request.GET.get("service", "")
        return {"service": int(raw)} if raw.isdigit() else {}

    def perform_create(self, form):
        data = form.cleaned_data
        return services.evaluation_create(
            actor=self.request.user,
            name=data["name"],
            service=data["service"],
            description=data["description"],
            providers=list(data["providers"]),
        )


class EvaluationDetailView(PortfolioUrls, ObjectDetailView):
    url_base = "evaluation"
    model = SourcingEvaluation
    select_related = ("service", "chosen_provider", "decided_by")

    def extra_context(self, instance: SourcingEvaluation) -> dict[str, Any]:
        return evaluation_context(self.request.user, instance)


def evaluation_context(user, evaluation: SourcingEvaluation, **forms) -> dict[str, Any]:
    criteria = list(evaluation.criteria.all())
    candidates = list(
        EvaluationCandidate.objects.restrict(user, "view")
        .filter(evaluation=evaluation)
        .select_related("provider")
    )
    scores = {
        (score.candidate_id, score.criterion_id): score.score
        for score in EvaluationScore.objects.filter(candidate__evaluation=evaluation)
    }
    editable = evaluation.status == EvaluationStatus.OPEN and may(user, "change", evaluation)
    context: dict[str, Any] = {
        "criteria": criteria,
        "total_weight": sum((criterion.weight for criterion in criteria), Decimal("0")),
        "candidates": candidates,
        "ranking": selectors.evaluation_ranking(evaluation=evaluation),
        "editable": editable,
        "grid": [
            {
                "candidate": candidate,
                "cells": [
                    {"criterion": criterion, "field": ScoreGridForm.key(candidate, criterion)}
                    for criterion in criteria
                ],
            }
            for candidate in candidates
        ],
    }
    if editable:
        criteria_form = forms.get("criteria_form") or CriteriaForm(criteria=criteria)
        score_form = forms.get("score_form") or ScoreGridForm(
            candidates=candidates, criteria=criteria, scores=scores
        )
        decision_form = forms.get("decision_form") or DecisionForm(evaluation=evaluation)
        for form in (criteria_form, score_form, decision_form):
            style_form(form, small=True)
        context.update(criteria_form=criteria_form, score_form=score_form, decision_form=decision_form)
    else:
        context["scores"] = scores
    return context


def _evaluation_for_change(request, pk: int) -> SourcingEvaluation:
    evaluation = get_visible(SourcingEvaluation.objects.restrict(request.user, "view"), pk, "evaluation")
    if not may(request.user, "change", evaluation):
        raise PermissionDenied("You may not change this evaluation.")
    return evaluation


def _render_evaluation(request, evaluation, status: int, **forms):
    context = {
        "object": evaluation,
        "list_url": reverse("portfolio:evaluation_list"),
        "model_name_plural": "sourcing evaluations",
        **evaluation_context(request.user, evaluation, **forms),
    }
    return render(request, "portfolio/sourcingevaluation_detail.html", context, status=status)


def _run(request, evaluation, action, success: str, **forms):
    try:
        action()
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_evaluation(request, evaluation, 400, **forms)
    messages.success(request, success)
    return redirect(evaluation)


@require_POST
@login_required
def evaluation_criteria(request, pk: int):
    evaluation = _evaluation_for_change(request, pk)
    form = CriteriaForm(request.POST, criteria=list(evaluation.criteria.all()))
    if not form.is_valid():
        return _render_evaluation(request, evaluation, 400, criteria_form=form)
    return _run(
        request,
        evaluation,
        lambda: services.evaluation_set_criteria(
            actor=request.user, evaluation=evaluation, criteria=form.criteria()
        ),
        "Criteria and weights saved; the ranking uses them now.",
        criteria_form=form,
    )


@require_POST
@login_required
def evaluation_scores(request, pk: int):
    evaluation = _evaluation_for_change(request, pk)
    criteria = list(evaluation.criteria.all())
    candidates = list(evaluation.candidates.select_related("provider"))
    form = ScoreGridForm(request.POST, candidates=candidates, criteria=criteria)
    if not form.is_valid():
        return _render_evaluation(request, evaluation, 400, score_form=form)

    def save_all():
        # All scores or none: a half-saved grid would rank on a mix of old and new opinions.
        with transaction.atomic():
            for candidate in candidates:
                for criterion in criteria:
                    value = form.cleaned_data.get(ScoreGridForm.key(candidate, criterion))
                    if value is not None:
                        services.evaluation_score(
                            actor=request.user, candidate=candidate, criterion=criterion, score=value
                        )

    return _run(request, evaluation, save_all, "Scores saved.", score_form=form)


@require_POST
@login_required
def evaluation_decide(request, pk: int):
    evaluation = _evaluation_for_change(request, pk)
    form = DecisionForm(request.POST, evaluation=evaluation)
    if not form.is_valid():
        return _render_evaluation(request, evaluation, 400, decision_form=form)
    provider = form.cleaned_data["provider"]
    return _run(
        request,
        evaluation,
        lambda: services.evaluation_decide(
            actor=request.user, evaluation=evaluation, provider=provider, reasons=form.cleaned_data["reasons"]
        ),
        f"Decided: {provider}.",
        decision_form=form,
    )
