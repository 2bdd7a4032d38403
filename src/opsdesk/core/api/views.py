"""Base viewset for every API model: restricted reads, writes through services,
ETags and optimistic concurrency."""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from rest_framework import exceptions, viewsets
from rest_framework.response import Response

from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update

ACTION_FOR_METHOD = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
                     "PATCH": "change", "DELETE": "delete"}
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = ("Say which version you edited: send the ETag you read as an If-Match header, "
                      "or the record's 'version' in the body.")


def expected_version(request) -> int:
    header = request.headers.get("If-Match", "").strip()
    if header:
        match = _ETAG.match(header)
        if not match:
            raise exceptions.ValidationError({"If-Match": ['Send the ETag you read, e.g. If-Match: "3".']})
        return int(match.group(1))
    body = request.data.get("version") if isinstance(request.data, dict) else None
    if body is None:
        raise PreconditionRequired()
    if isinstance(body, bool) or not isinstance(body, int) or body < 1:
        raise exceptions.ValidationError({"version": ["A positive whole number."]})
    return body


class RestrictedModelViewSet(viewsets.ModelViewSet):
    """List, retrieve, create, update and delete, each through the object-level rules.

    A record the user may not see answers 404, exactly like a missing one; a record they
    see but may not change answers 403. Subclasses override ``create_record`` /
    ``update_record`` / ``delete_record`` to call their app's services.
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self):
        queryset = self.queryset.model.objects.restrict(self.request.user, "view")
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def get_object(self):
        instance = super().get_object()
        action = ACTION_FOR_METHOD.get(self.request.method, "view")
        if action != "view":
            ensure_allowed(actor=self.request.user, action=action, instance=instance)
        return instance

    # --- services; override per model -----------------------------------------------
    def create_record(self, data: dict[str, Any]) -> models.Model:
        return record_create(model=self.queryset.model, actor=self.request.user, **_split_m2m(data))

    def update_record(self, instance: models.Model, data: dict[str, Any], version: int) -> models.Model:
        return record_update(instance=instance, actor=self.request.user, expected_version=version,
                             **_split_m2m(data))

    def delete_record(self, instance: models.Model) -> None:
        record_delete(instance=instance, actor=self.request.user)

    # --- DRF hooks -------------------------------------------------------------------------
    def perform_create(self, serializer):
        serializer.instance = self.create_record(serializer.validated_data)

    def perform_update(self, serializer):
        version = expected_version(self.request)
        serializer.instance = self.update_record(serializer.instance, serializer.validated_data, version)

    def perform_destroy(self, instance):
        self.delete_record(instance)

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


def _split_m2m(data: dict[str, Any]) -> dict[str, Any]:
    plain = {key: value for key, value in data.items() if not isinstance(value, list)}
    m2m = {key: value for key, value in data.items() if isinstance(value, list)}
    return {"data": plain, "m2m": m2m}
