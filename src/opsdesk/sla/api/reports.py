"""``GET /api/v1/sla/report/``: the SLA compliance report as JSON, or as CSV with ``format=csv``
(or ``Accept: text/csv``). Requesters get their own organisation's SLA figures only."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from opsdesk.core.api.views import ApiViewMixin
from opsdesk.sla.choices import Metric, PolicyKind
from opsdesk.sla.reports import GROUP_BY, compliance_report, report_to_csv

DEFAULT_DAYS = 90
MAX_ID = 2**31 - 1


class CsvRenderer(BaseRenderer):
    """Offers text/csv to content negotiation; the view writes the CSV itself, and errors stay
    problem details in JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, renderer_context=renderer_context)


class ReportQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, help_text=f"First day (site time zone); default {DEFAULT_DAYS - 1} days before end."
    )
    end = serializers.DateField(required=False, help_text="Last day, included; default today.")
    group_by = serializers.ChoiceField(choices=list(GROUP_BY), default="service")
    kind = serializers.ChoiceField(choices=PolicyKind.values, default=PolicyKind.SLA)
    metric = serializers.ChoiceField(
        choices=Metric.values, required=False, help_text="Default: every metric."
    )
    organization = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Staff only; requesters get their own."
    )


class ReportRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text="The group: a record id, a priority number or YYYY-MM; null for none."
    )
    label = serializers.CharField()
    measured = serializers.IntegerField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    finished = serializers.IntegerField(help_text="Met or breached (final states).")
    open = serializers.IntegerField()
    open_at_risk = serializers.IntegerField(help_text="Still open and already breached.")
    pct_met = serializers.FloatField(
        allow_null=True, help_text="Met ÷ finished × 100; null if none finished."
    )
    respond_mean = serializers.FloatField(allow_null=True, help_text="Business minutes.")
    respond_p90 = serializers.FloatField(allow_null=True, help_text="Business minutes, nearest rank.")
    resolve_mean = serializers.FloatField(allow_null=True, help_text="Business minutes.")
    resolve_p90 = serializers.FloatField(allow_null=True, help_text="Business minutes, nearest rank.")


class ReportPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class ReportSerializer(serializers.Serializer):
    period = ReportPeriodSerializer()
    group_by = serializers.CharField()
    kind = serializers.CharField()
    metric = serializers.CharField(allow_null=True)
    organization = serializers.IntegerField(allow_null=True)
    rows = ReportRowSerializer(many=True)
    totals = ReportRowSerializer()
    trend = ReportRowSerializer(many=True)


class ComplianceReportView(ApiViewMixin, APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]
    filter_backends: list = []

    @extend_schema(
        operation_id="sla_report",
        parameters=[
            ReportQuerySerializer,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv"],
                required=False,
                description="csv for a spreadsheet.",
            ),
        ],
        responses={
            (200, "application/json"): ReportSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="A header row, one row per group, the totals row."
            ),
        },
        description="SLA compliance per group over a period (at most 3 years), with totals and the monthly "
        "trend: timers measured, met, breached, % met (met ÷ finished), open at risk, mean and 90th "
        "percentile time to respond and to resolve in business minutes.",
    )
    def get(self, request):
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        report = compliance_report(
            user=request.user,
            start=start,
            end=end,
            group_by=data["group_by"],
            kind=data["kind"],
            metric=data.get("metric"),
            organization_id=data.get("organization"),
        )
        if request.accepted_renderer.format == "csv":
            response = HttpResponse(report_to_csv(report), content_type="text/csv; charset=utf-8")
            filename = f"sla-{report.kind}-{report.group_by}-{report.start}-{report.end}.csv"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        return Response(ReportSerializer(report.as_dict()).data)
