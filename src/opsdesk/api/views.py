"""API endpoints of the platform itself: tokens, the audit trail, the security log, jobs."""

from __future__ import annotations

import django_filters
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from opsdesk.accounts.services import token_create
from opsdesk.api import serializers
from opsdesk.core import selectors
from opsdesk.core.api.permissions import AuditorsAndAdmins
from opsdesk.core.api.views import ApiViewMixin
from opsdesk.core.models import AuditEntry, Job, SecurityEvent


class TokenView(ApiViewMixin, APIView):
    """Exchange a username and password for an API token (throttled; locks out like the login form)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request):
        # Wrong credentials are a 401 (DRF turns it into a 403 when no scheme is named).
        return 'Bearer realm="api"'

    @extend_schema(
        request=serializers.TokenRequestSerializer,
        responses={201: serializers.TokenResponseSerializer},
        auth=[],
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        payload = serializers.TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=payload.validated_data["username"],
            password=payload.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Wrong username or password, or the account is locked.")
        token, raw = token_create(actor=user, user=user, name=payload.validated_data["name"])
        return Response(
            {"token": raw, "name": token.name, "prefix": token.prefix}, status=status.HTTP_201_CREATED
        )


class AuditEntryFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(method="filter_object_type", label="app_label.model")
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ("actor", "channel", "operation", "object_id")

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


class AuditEntryViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The audit trail: every change to a domain record. Read-only, for auditors and admins."""

    permission_classes = [AuditorsAndAdmins]
    queryset = AuditEntry.objects.all()
    serializer_class = serializers.AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    search_fields = ("object_repr", "actor_name")
    ordering_fields = ("id", "at")

    def get_queryset(self):
        return selectors.audit_entries_for(user=self.request.user)


class SecurityEventViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The security log: sign-ins, failures, lockouts, refusals, tokens. Auditors and admins read it."""

    permission_classes = [AuditorsAndAdmins]
    queryset = SecurityEvent.objects.all()
    serializer_class = serializers.SecurityEventSerializer
    filterset_fields = ("kind", "username", "user")
    search_fields = ("username", "ip")
    ordering_fields = ("id", "at")

    def get_queryset(self):
        return selectors.security_events_for(user=self.request.user)


class JobViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Background runs: status, timings, log and error. Read-only, for auditors and admins."""

    permission_classes = [AuditorsAndAdmins]
    queryset = Job.objects.all()
    serializer_class = serializers.JobSerializer
    filterset_fields = ("status", "name")
    search_fields = ("name",)
    # Not started_at: it is empty until a job runs, and a cursor cannot point at an empty key.
    ordering_fields = ("id", "created_at")

    def get_queryset(self):
        return Job.objects.restrict(self.request.user, "view")
