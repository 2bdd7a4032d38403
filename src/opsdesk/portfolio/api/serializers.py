from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from rest_framework import serializers

from opsdesk.core.api.serializers import StaffOnlyFieldsMixin, StrictModelSerializer
from opsdesk.portfolio import models as m
from opsdesk.portfolio.choices import Stage
from opsdesk.portfolio.models.sourcing import MAX_SCORE
from opsdesk.portfolio.selectors import evaluation_ranking, policy_current_version


class CalendarSerializer(StrictModelSerializer):
    timezone = serializers.CharField(source="time_zone", max_length=64, required=False)

    class Meta:
        model = m.BusinessCalendar
        fields = (
            "id",
            "name",
            "timezone",
            "working_hours",
            "holiday_country",
            "holiday_subdivision",
            "closures",
            "extra_working_days",
            "version",
            "created_at",
            "updated_at",
        )


class DueQuerySerializer(serializers.Serializer):
    """The query of ``GET /calendars/{id}/due/``."""

    start = serializers.CharField(
        help_text="ISO 8601 date and time with a UTC offset or Z, e.g. 2026-03-02T09:00:00+01:00."
    )
    minutes = serializers.CharField(help_text="Business minutes to add: a whole number, 0 or more.")

    def validate_start(self, value: str) -> datetime:
        text = value.strip()
        # An unencoded "+" in a query string arrives as a space: "…T09:00:00 01:00".
        text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise serializers.ValidationError(
                "Not a date and time as ISO 8601, e.g. 2026-03-02T09:00:00+01:00."
            ) from exc
        if moment.tzinfo is None:
            raise serializers.ValidationError(
                "Give the UTC offset (e.g. +01:00 or Z): a time without one is ambiguous."
            )
        return moment

    def validate_minutes(self, value: str) -> int:
        if not re.fullmatch(r"\d{1,12}", value.strip()):
            raise serializers.ValidationError("A whole number of minutes, 0 or more.")
        return int(value)


class DueSerializer(serializers.Serializer):
    due = serializers.DateTimeField(
        help_text="When the business minutes have elapsed, in the calendar's time zone."
    )


class SupportTierSerializer(StrictModelSerializer):
    class Meta:
        model = m.ServiceSupportTier
        fields = ("id", "service", "tier", "team", "staffed_by", "version")


class ServiceLocationSerializer(StrictModelSerializer):
    class Meta:
        model = m.ServiceLocation
        fields = ("id", "service", "location", "delivery", "on_site_team", "version")


class ServiceObjectiveSerializer(StrictModelSerializer):
    class Meta:
        model = m.ServiceObjective
        fields = ("id", "service", "objective", "alignment", "note", "version")


class ServiceSerializer(StaffOnlyFieldsMixin, StrictModelSerializer):
    staff_only_fields = ("support_tiers", "escalation_teams", "owner")

    depends_on = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=m.Service.objects.all(),
        help_text="Ids of the services this one needs. No cycles.",
    )
    stage = serializers.ChoiceField(
        choices=Stage.choices, required=False, help_text="Set on create; change it later with POST …/stage/."
    )
    support_tiers = SupportTierSerializer(many=True, read_only=True)

    class Meta:
        model = m.Service
        fields = (
            "id",
            "name",
            "description",
            "type",
            "stage",
            "pipeline_at",
            "catalogue_at",
            "retired_at",
            "owner",
            "criticality",
            "service_hours",
            "depends_on",
            "escalation_teams",
            "channels",
            "service_levels",
            "delivery_type",
            "support_mode",
            "support_languages",
            "support_tiers",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("pipeline_at", "catalogue_at", "retired_at")

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # Only ids of services the client may see are accepted (and, below, shown).
            fields["depends_on"].child_relation.queryset = m.Service.objects.restrict(request.user, "view")
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not getattr(request.user, "is_agent", False):
            # Requesters must not learn of services they may not see (pipeline ones, say).
            if "visible_service_ids" not in self.context:
                self.context["visible_service_ids"] = set(
                    m.Service.objects.restrict(request.user, "view").values_list("pk", flat=True)
                )
            data["depends_on"] = [
                pk for pk in data["depends_on"] if pk in self.context["visible_service_ids"]
            ]
        return data


class StageChangeSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    effective = serializers.DateField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OfferingSerializer(StaffOnlyFieldsMixin, StrictModelSerializer):
    staff_only_fields = ("cost",)

    class Meta:
        model = m.Offering
        fields = (
            "id",
            "service",
            "name",
            "description",
            "included",
            "cost",
            "price",
            "currency",
            "period",
            "locations",
            "version",
            "created_at",
            "updated_at",
        )


class ObjectiveSerializer(StrictModelSerializer):
    class Meta:
        model = m.BusinessObjective
        fields = (
            "id",
            "name",
            "kind",
            "description",
            "owner",
            "period_start",
            "period_end",
            "version",
            "created_at",
            "updated_at",
        )


class KpiSerializer(StrictModelSerializer):
    on_target = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = m.Kpi
        fields = ("id", "objective", "name", "unit", "target", "actual", "direction", "on_target", "version")


class ProviderContactSerializer(StrictModelSerializer):
    class Meta:
        model = m.ProviderContact
        fields = ("id", "provider", "name", "role", "email", "phone", "version")


class ProviderSerializer(StrictModelSerializer):
    contacts = ProviderContactSerializer(many=True, read_only=True)

    class Meta:
        model = m.Provider
        fields = (
            "id",
            "name",
            "kind",
            "website",
            "email",
            "phone",
            "notes",
            "services",
            "offerings",
            "contacts",
            "version",
            "created_at",
            "updated_at",
        )


class ContractDocumentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = m.ContractDocument
        fields = (
            "id",
            "contract",
            "original_name",
            "content_type",
            "size",
            "uploaded_by",
            "created_at",
            "download",
        )

    def get_download(self, document: m.ContractDocument) -> str:
        return f"/api/v1/contract-documents/{document.pk}/download/"


class ContractSerializer(StrictModelSerializer):
    notice_date = serializers.DateField(read_only=True, allow_null=True)
    reminder_date = serializers.DateField(read_only=True, allow_null=True)
    documents = ContractDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = m.Contract
        fields = (
            "id",
            "provider",
            "reference",
            "owner",
            "start_date",
            "end_date",
            "notice_period_days",
            "notice_date",
            "auto_renew",
            "reminder_days",
            "reminder_date",
            "cost",
            "currency",
            "cost_period",
            "services",
            "offerings",
            "notes",
            "documents",
            "version",
            "created_at",
            "updated_at",
        )


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CriterionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)


class RankingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    provider = serializers.IntegerField(source="candidate.provider_id")
    provider_name = serializers.CharField(source="candidate.provider.name")
    weighted_score = serializers.DecimalField(max_digits=5, decimal_places=2)
    scored_criteria = serializers.IntegerField()


class EvaluationSerializer(StrictModelSerializer):
    criteria = CriterionSerializer(
        many=True, required=False, help_text="Default: cost, quality, risk and strategic fit."
    )
    providers = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=m.Provider.objects.all(), help_text="The candidate providers."
    )
    ranking = serializers.SerializerMethodField()

    class Meta:
        model = m.SourcingEvaluation
        fields = (
            "id",
            "name",
            "service",
            "description",
            "criteria",
            "providers",
            "status",
            "chosen_provider",
            "decision_reasons",
            "decided_at",
            "decided_by",
            "ranking",
            "version",
            "created_at",
        )
        read_only_fields = ("status", "chosen_provider", "decision_reasons", "decided_at", "decided_by")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["providers"] = [candidate.provider_id for candidate in instance.candidates.all()]
        return data

    def get_ranking(self, evaluation: m.SourcingEvaluation) -> list[dict]:
        return RankingSerializer(evaluation_ranking(evaluation=evaluation), many=True).data


class ScoreSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=m.Provider.objects.all())
    criterion = serializers.CharField(max_length=100, help_text="The criterion's name.")
    score = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=Decimal("0"), max_value=Decimal(MAX_SCORE)
    )


class DecisionSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=m.Provider.objects.all())
    reasons = serializers.CharField(max_length=5000)


class PolicyVersionSerializer(StrictModelSerializer):
    class Meta:
        model = m.SupportPolicyVersion
        fields = (
            "id",
            "policy",
            "number",
            "status",
            "effective_from",
            "support_hours",
            "coverage",
            "priority_definitions",
            "escalation_rules",
            "published_at",
            "version",
            "created_at",
        )
        read_only_fields = ("policy", "number", "status", "published_at")


class PolicySerializer(StrictModelSerializer):
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = m.SupportPolicy
        fields = ("id", "name", "services", "current_version", "version", "created_at", "updated_at")

    def get_current_version(self, policy: m.SupportPolicy) -> int | None:
        current = policy_current_version(policy=policy)
        return current.pk if current else None
