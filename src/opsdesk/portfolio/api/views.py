from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from opsdesk.core.api.views import ApiViewMixin, RestrictedModelViewSet
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import record_delete
from opsdesk.portfolio import business_time, filtersets, services
from opsdesk.portfolio import models as m
from opsdesk.portfolio.api import serializers


class CalendarViewSet(RestrictedModelViewSet):
    """Business calendars (service hours), in the shape the SLA engine reads."""

    queryset = m.BusinessCalendar.objects.all()
    serializer_class = serializers.CalendarSerializer
    search_fields = ("name",)
    ordering_fields = ("id", "name")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start",
                OpenApiTypes.DATETIME,
                required=True,
                description="ISO 8601 with a UTC offset or Z, e.g. 2026-03-02T09:00:00+01:00.",
            ),
            OpenApiParameter(
                "minutes", OpenApiTypes.INT, required=True, description="Business minutes to add (0 or more)."
            ),
        ],
        responses=serializers.DueSerializer,
    )
    @action(detail=True, methods=["get"])
    def due(self, request, pk=None):
        """The instant at which ``minutes`` business minutes have elapsed since ``start`` under
        this calendar. A span that completes at the end of a working interval ends there;
        ``minutes=0`` gives ``start`` if it is working time, else the next working instant."""
        calendar = self.get_object()
        query = serializers.DueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        schedule = business_time.schedule_for(calendar)
        try:
            due = business_time.add_business_minutes(
                schedule, query.validated_data["start"], query.validated_data["minutes"]
            )
        except business_time.NoWorkingTime as exc:
            raise ServiceError(str(exc), code="no_working_time") from exc
        except business_time.BeyondHorizon as exc:
            raise ServiceError(str(exc), code="beyond_horizon", field="minutes") from exc
        return Response({"due": due.isoformat()})


class ServiceViewSet(RestrictedModelViewSet):
    """Services of the portfolio. Requesters see catalogue-stage services only; service owners
    edit their own. ``depends_on`` is a list of service ids; a cycle is refused."""

    queryset = m.Service.objects.all()
    serializer_class = serializers.ServiceSerializer
    filterset_class = filtersets.ServiceFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "name", "criticality", "stage")
    select_related = ("owner",)
    prefetch_related = ("depends_on", "escalation_teams", "support_tiers")

    @staticmethod
    def _relations(data: dict[str, Any]) -> dict[str, Any]:
        return {name: data.pop(name) for name in ("depends_on", "escalation_teams") if name in data}

    def create_record(self, data: dict[str, Any]) -> m.Service:
        relations = self._relations(data)
        return services.service_create(actor=self.request.user, data=data, **relations)

    def update_record(self, instance: m.Service, data: dict[str, Any], version: int | None) -> m.Service:
        relations = self._relations(data)
        return services.service_update(
            actor=self.request.user, service=instance, data=data, expected_version=version, **relations
        )

    @extend_schema(request=serializers.StageChangeSerializer, responses=serializers.ServiceSerializer)
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        """Move the service to another portfolio stage (pipeline → catalogue → retired)."""
        service = self.get_object()
        payload = serializers.StageChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.service_change_stage(
            actor=request.user,
            service=service,
            to_stage=payload.validated_data["stage"],
            effective=payload.validated_data.get("effective"),
            note=payload.validated_data["note"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=service.pk)).data)


class SupportTierViewSet(RestrictedModelViewSet):
    queryset = m.ServiceSupportTier.objects.all()
    serializer_class = serializers.SupportTierSerializer
    filterset_fields = ("service", "tier", "team")
    search_fields = ("service__name", "team__name")
    ordering_fields = ("id", "tier")


class ServiceLocationViewSet(RestrictedModelViewSet):
    queryset = m.ServiceLocation.objects.all()
    serializer_class = serializers.ServiceLocationSerializer
    filterset_fields = ("service", "location", "delivery")
    search_fields = ("service__name", "location__name")
    ordering_fields = ("id",)


class ServiceObjectiveViewSet(RestrictedModelViewSet):
    queryset = m.ServiceObjective.objects.all()
    serializer_class = serializers.ServiceObjectiveSerializer
    filterset_fields = ("service", "objective", "alignment")
    search_fields = ("service__name", "objective__name")
    ordering_fields = ("id", "alignment")


class OfferingViewSet(RestrictedModelViewSet):
    queryset = m.Offering.objects.all()
    serializer_class = serializers.OfferingSerializer
    filterset_class = filtersets.OfferingFilterSet
    search_fields = ("name", "description", "service__name")
    ordering_fields = ("id", "name", "cost", "price")
    prefetch_related = ("locations",)


class ObjectiveViewSet(RestrictedModelViewSet):
    queryset = m.BusinessObjective.objects.all()
    serializer_class = serializers.ObjectiveSerializer
    filterset_fields = ("kind", "owner")
    search_fields = ("name", "description")
    ordering_fields = ("id", "name", "period_end")


class KpiViewSet(RestrictedModelViewSet):
    queryset = m.Kpi.objects.all()
    serializer_class = serializers.KpiSerializer
    filterset_fields = ("objective", "direction")
    search_fields = ("name",)
    ordering_fields = ("id", "name")


class ProviderViewSet(RestrictedModelViewSet):
    queryset = m.Provider.objects.all()
    serializer_class = serializers.ProviderSerializer
    filterset_class = filtersets.ProviderFilterSet
    search_fields = ("name", "email", "notes")
    ordering_fields = ("id", "name")
    prefetch_related = ("contacts", "services", "offerings")


class ProviderContactViewSet(RestrictedModelViewSet):
    queryset = m.ProviderContact.objects.all()
    serializer_class = serializers.ProviderContactSerializer
    filterset_fields = ("provider",)
    search_fields = ("name", "email")
    ordering_fields = ("id", "name")


class ContractViewSet(RestrictedModelViewSet):
    queryset = m.Contract.objects.all()
    serializer_class = serializers.ContractSerializer
    filterset_class = filtersets.ContractFilterSet
    search_fields = ("reference", "provider__name", "notes")
    ordering_fields = ("id", "end_date", "start_date", "cost")
    select_related = ("provider",)
    prefetch_related = ("services", "offerings", "documents")

    @extend_schema(
        request={"multipart/form-data": serializers.DocumentUploadSerializer},
        responses={201: serializers.ContractDocumentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def documents(self, request, pk=None):
        """Attach a document (PDF, office files, text, images; size-limited)."""
        contract = self.get_object()
        payload = serializers.DocumentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        document = services.contract_document_add(
            actor=request.user, contract=contract, upload=payload.validated_data["file"]
        )
        return Response(serializers.ContractDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class ContractDocumentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Contract documents: metadata, and the file itself as a download."""

    queryset = m.ContractDocument.objects.all()
    serializer_class = serializers.ContractDocumentSerializer
    filterset_fields = ("contract",)
    search_fields = ("original_name",)
    ordering_fields = ("id", "created_at")

    def get_queryset(self):
        return m.ContractDocument.objects.restrict(self.request.user, "view")

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file, as an attachment under its original name."""
        document = self.get_object()
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def destroy(self, request, pk=None):
        record_delete(instance=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EvaluationViewSet(RestrictedModelViewSet):
    """Sourcing evaluations: candidates scored against weighted criteria, ranked, decided."""

    queryset = m.SourcingEvaluation.objects.all()
    serializer_class = serializers.EvaluationSerializer
    filterset_fields = ("status", "service")
    search_fields = ("name", "description")
    ordering_fields = ("id", "name", "created_at")
    prefetch_related = ("criteria", "candidates")

    def create_record(self, data: dict[str, Any]) -> m.SourcingEvaluation:
        criteria = data.pop("criteria", None)
        return services.evaluation_create(
            actor=self.request.user,
            providers=data.pop("providers", []),
            criteria=[(item["name"], item["weight"]) for item in criteria] if criteria is not None else None,
            **data,
        )

    def update_record(self, instance, data: dict[str, Any], version: int | None):
        criteria, providers = data.pop("criteria", None), data.pop("providers", None)
        if providers is not None:
            raise ServiceError("Candidates are set when the evaluation is created.", field="providers")
        evaluation = super().update_record(instance, data, version)
        if criteria is not None:
            services.evaluation_set_criteria(
                actor=self.request.user,
                evaluation=evaluation,
                criteria=[(item["name"], item["weight"]) for item in criteria],
            )
        return evaluation

    @extend_schema(request=serializers.ScoreSerializer, responses=serializers.EvaluationSerializer)
    @action(detail=True, methods=["post"])
    def scores(self, request, pk=None):
        """Score a candidate provider against a criterion (0–10)."""
        evaluation = self.get_object()
        payload = serializers.ScoreSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        candidate = evaluation.candidates.filter(provider=payload.validated_data["provider"]).first()
        criterion = evaluation.criteria.filter(name=payload.validated_data["criterion"]).first()
        if candidate is None or criterion is None:
            field = "provider" if candidate is None else "criterion"
            raise ServiceError(f"That {field} is not part of this evaluation.", field=field)
        services.evaluation_score(
            actor=request.user,
            candidate=candidate,
            criterion=criterion,
            score=payload.validated_data["score"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=evaluation.pk)).data)

    @extend_schema(request=serializers.DecisionSerializer, responses=serializers.EvaluationSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Record the chosen provider and the reasons."""
        evaluation = self.get_object()
        payload = serializers.DecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.evaluation_decide(actor=request.user, evaluation=evaluation, **payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=evaluation.pk)).data)


class PolicyViewSet(RestrictedModelViewSet):
    """Support policies; requesters see those with a published version in force."""

    queryset = m.SupportPolicy.objects.all()
    serializer_class = serializers.PolicySerializer
    filterset_fields = ("services",)
    search_fields = ("name",)
    ordering_fields = ("id", "name")
    prefetch_related = ("services",)


class PolicyVersionViewSet(RestrictedModelViewSet):
    """Versions of support policies: drafted, published (then final), effective from a date."""

    queryset = m.SupportPolicyVersion.objects.all()
    serializer_class = serializers.PolicyVersionSerializer
    filterset_fields = ("policy", "status")
    search_fields = ("coverage", "support_hours")
    ordering_fields = ("id", "number", "effective_from")
    http_method_names = ["get", "patch", "put", "head", "options", "post"]

    def create(self, request, *args, **kwargs):
        policy_id = request.data.get("policy") if isinstance(request.data, dict) else None
        policy = (
            m.SupportPolicy.objects.restrict(request.user, "view")
            .filter(pk=policy_id if isinstance(policy_id, int) else None)
            .first()
        )
        if policy is None:
            raise ServiceError("Name the policy (an id you can see) this version belongs to.", field="policy")
        data = {key: value for key, value in request.data.items() if key != "policy"}
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        version = services.policy_version_create(
            actor=request.user, policy=policy, data=serializer.validated_data
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    def update_record(self, instance, data: dict[str, Any], version: int | None):
        return services.policy_version_update(
            actor=self.request.user, version=instance, data=data, expected_version=version
        )

    @extend_schema(request=None, responses=serializers.PolicyVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish a draft; it reaches requesters from its effective date and is final."""
        version = self.get_object()
        services.policy_version_publish(actor=request.user, version=version)
        return Response(self.get_serializer(version).data)
