"""Base views for every API endpoint: strict parsing, restricted reads, writes through services,
ETags and optimistic concurrency."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from django.db import models, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, viewsets
from rest_framework.response import Response

from opsdesk.core.api.filters import BoundedFilterBackend
from opsdesk.core.api.parsers import BoundedJSONParser
from opsdesk.core.audit import _current, current_context
from opsdesk.core.choices import Channel
from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update

ACTION_FOR_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}
STANDARD_ACTIONS = frozenset(
    {"list", "retrieve", "create", "update", "partial_update", "destroy", "metadata"}
)
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')
ANY_VERSION = "*"

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag you read (e.g. "3"). A stale one is refused with 409. Required on PUT and PATCH '
    "unless the body carries 'version'; '*' applies the change to whatever version is current.",
)


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = (
        "Say which version you edited: send the ETag you read as an If-Match header, "
        "or the record's 'version' in the body."
    )


def if_match_version(request) -> int | str | None:
    """The version named by ``If-Match``: an int, ``ANY_VERSION`` for ``*``, or None if absent."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    if header == ANY_VERSION:
        return ANY_VERSION
    match = _ETAG.match(header)
    if not match:
        raise exceptions.ValidationError({"If-Match": ['Send the ETag you read, e.g. If-Match: "3".']})
    return int(match.group(1))


def expected_version(request) -> int | None:
    """The version the client edited, from ``If-Match`` or the body's ``version``; None for ``*``."""
    version = if_match_version(request)
    if version == ANY_VERSION:
        return None
    if version is not None:
        return version
    body = request.data.get("version") if isinstance(request.data, dict) else None
    if body is None:
        raise PreconditionRequired()
    if isinstance(body, bool) or not isinstance(body, int) or not 1 <= body < 2**31:
        raise exceptions.ValidationError({"version": ["A positive whole number."]})
    return body


class ApiViewMixin:
    """What every API view shares: JSON bodies within the size limit, no NUL characters in the
    query string (databases refuse them), and audit entries stamped with the API user."""

    parser_classes = [BoundedJSONParser]
    filter_backends = [BoundedFilterBackend, filters.SearchFilter, filters.OrderingFilter]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        bad = sorted(
            {
                key
                for key, value in request.query_params.lists()
                if "\x00" in key or any("\x00" in item for item in value)
            }
        )
        if bad:
            raise exceptions.ValidationError({name: ["NUL characters are not allowed."] for name in bad})
        if request.user and request.user.is_authenticated:
            # The middleware only saw the session user; a token's user is known from here on.
            _current.set(replace(current_context(), actor=request.user, channel=Channel.API))


@extend_schema_view(
    update=extend_schema(parameters=[IF_MATCH]),
    partial_update=extend_schema(parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)
class RestrictedModelViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """List, retrieve, create, update and delete, each through the object-level rules.

    A record the user may not see answers 404, exactly like a missing one; a record they
    see but may not change answers 403. Subclasses override ``create_record`` /
    ``update_record`` / ``delete_record`` to call their app's services. Each write runs in
    one transaction, so a refused request leaves nothing behind.
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple = ()  # names or Prefetch objects

    def get_queryset(self):
        queryset = self.queryset.model.objects.restrict(self.request.user, "view")
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def filter_queryset(self, queryset):
        # Filters, search and ordering shape lists. A single record is already restricted by
        # get_queryset; building the FilterSet form for it cost a fifth of a detail request.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    def object_action(self) -> str:
        """The right ``get_object`` checks. Extra actions only need to see the object: their
        services decide (a team lead may add members to a team they may not edit)."""
        if self.action not in STANDARD_ACTIONS:
            return "view"
        return ACTION_FOR_METHOD.get(self.request.method, "view")

    def get_object(self):
        instance = super().get_object()
        action = self.object_action()
        if action != "view":
            ensure_allowed(actor=self.request.user, action=action, instance=instance)
        return instance

    # --- services; override per model -----------------------------------------------
    def create_record(self, data: dict[str, Any]) -> models.Model:
        return record_create(
            model=self.queryset.model, actor=self.request.user, **_split_m2m(self.queryset.model, data)
        )

    def update_record(
        self, instance: models.Model, data: dict[str, Any], version: int | None
    ) -> models.Model:
        return record_update(
            instance=instance,
            actor=self.request.user,
            expected_version=version,
            **_split_m2m(type(instance), data),
        )

    def delete_record(self, instance: models.Model, version: int | None) -> None:
        record_delete(instance=instance, actor=self.request.user, expected_version=version)

    # --- DRF hooks -------------------------------------------------------------------------
    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.instance = self.create_record(serializer.validated_data)

    def perform_update(self, serializer):
        version = expected_version(self.request)
        with transaction.atomic():
            serializer.instance = self.update_record(serializer.instance, serializer.validated_data, version)

    def perform_destroy(self, instance):
        version = if_match_version(self.request)
        with transaction.atomic():
            self.delete_record(instance, None if version == ANY_VERSION else version)

    def retrieve(self, request, *args, **kwargs):
        return _with_etag(super().retrieve(request, *args, **kwargs))

    def update(self, request, *args, **kwargs):
        return _with_etag(super().update(request, *args, **kwargs))

    def create(self, request, *args, **kwargs):
        return _with_etag(super().create(request, *args, **kwargs))


def _with_etag(response: Response) -> Response:
    version = response.data.get("version") if isinstance(response.data, dict) else None
    if version is not None:
        response["ETag"] = f'"{version}"'
    return response


def _split_m2m(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    # Many-to-many relations are set after the row exists; JSON list fields are plain values.
    relations = {field.name for field in model._meta.many_to_many}
    plain = {key: value for key, value in data.items() if key not in relations}
    m2m = {key: value for key, value in data.items() if key in relations}
    return {"data": plain, "m2m": m2m}
