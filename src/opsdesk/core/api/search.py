"""``GET /api/v1/search/?q=``: the global full-text search — ranked hits with highlighted titles
and snippets, the number of matches per kind, filters and page pagination. Only what the caller
may view is found or counted."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from opsdesk.core.api.views import ApiViewMixin
from opsdesk.core.search import MAX_PAGE, MAX_PAGE_SIZE, search_documents, targets

MAX_ID = 2**63 - 1
MAX_Q_LENGTH = 1000


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_Q_LENGTH,
        trim_whitespace=True,
        allow_blank=True,
        help_text='Words (the last one, and any ending in *, match as prefixes) and "quoted phrases". '
        "Operators of the database's own query language are searched as plain text.",
    )
    type = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Kinds to return, comma-separated (ticket, problem, article…). Counts cover every kind.",
    )
    status = serializers.CharField(required=False, max_length=200, help_text="Statuses, comma-separated.")
    service = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A service id."
    )
    since = serializers.DateField(required=False, help_text="Created on or after this day (site time zone).")
    until = serializers.DateField(required=False, help_text="Created on or before this day (site time zone).")
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=20)

    def validate_type(self, value: str) -> list[str]:
        kinds = [k.strip() for k in value.split(",") if k.strip()]
        known = sorted(t.kind for t in targets())
        unknown = sorted(set(kinds) - set(known))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown type {', '.join(unknown)}; choose from {', '.join(known)}."
            )
        return kinds

    def validate_status(self, value: str) -> list[str]:
        return [s.strip() for s in value.split(",") if s.strip()][:20]

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "The end day comes before the start day."})
        return attrs


class SearchCountSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Matches the caller may see; past the cap, cap + 1.")
    capped = serializers.BooleanField(help_text="True when there are more matches than were counted.")


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    title_html = serializers.CharField(help_text="The title, HTML-escaped, matches in <mark>.")
    snippet_html = serializers.CharField(help_text="The best passage, HTML-escaped, matches in <mark>.")
    url = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    rank = serializers.FloatField(help_text="Higher is better; comparable within one response.")


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    searched = serializers.CharField(help_text="The query as searched, after clean-up.")
    message = serializers.CharField(help_text="Why nothing or only part was searched; empty otherwise.")
    total = serializers.IntegerField(help_text="Matches of the chosen types.")
    counts = SearchCountSerializer(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SearchHitSerializer(many=True)


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class SearchView(ApiViewMixin, APIView):
    filter_backends: list = []

    @extend_schema(
        operation_id="search",
        parameters=[SearchQuerySerializer],
        responses={200: SearchResponseSerializer},
        description="Full-text search over every registered kind of record (tickets, problems, "
        "articles…), ranked, with highlighted snippets and per-kind counts; restricted to what the "
        "caller may view.",
    )
    def get(self, request):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        results = search_documents(
            user=request.user,
            query=data["q"],
            kinds=data.get("type") or (),
            statuses=data.get("status") or (),
            service_id=data.get("service"),
            since=_day_start(data["since"]) if data.get("since") else None,
            until=_day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
            page=data["page"],
            page_size=data["page_size"],
        )
        url = request.build_absolute_uri()
        previous = None
        if results.has_previous:
            previous = (
                replace_query_param(url, "page", results.page - 1)
                if results.page > 2
                else remove_query_param(url, "page")
            )
        body = {
            "query": data["q"],
            "searched": str(results.parsed),
            "message": results.message,
            "total": results.total,
            "counts": [
                {"kind": c.kind, "label": c.label, "count": c.count, "capped": c.capped}
                for c in results.counts
            ],
            "page": results.page,
            "page_size": results.page_size,
            "next": replace_query_param(url, "page", results.page + 1) if results.has_next else None,
            "previous": previous,
            "results": [
                {
                    "kind": hit.kind,
                    "label": hit.label,
                    "id": hit.obj.pk,
                    "title": hit.title,
                    "title_html": hit.title_html,
                    "snippet_html": hit.snippet_html,
                    "url": request.build_absolute_uri(hit.url) if hit.url else "",
                    "status": hit.status,
                    "created_at": hit.created_at,
                    "rank": hit.rank,
                }
                for hit in results.hits
            ],
        }
        return Response(SearchResponseSerializer(body).data)


# Included by opsdesk.api.urls under search/ (URL name "api:search").
urlpatterns = [path("", SearchView.as_view(), name="search")]
