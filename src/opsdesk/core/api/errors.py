"""Every API error as an RFC 9457 problem detail (``application/problem+json``):
``type``, ``title``, ``status``, ``detail`` and, for invalid input, ``errors`` by field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.security_events import security_event_record

PROBLEM_TYPE_BASE = "https://opsdesk.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(*, status_code: int, code: str, title: str, detail: str, errors: dict | None = None) -> dict:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _response(body: dict, headers: dict | None = None) -> Response:
    response = Response(body, status=body["status"], headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    request = context.get("request")
    if isinstance(exc, ServiceError):
        errors = exc.errors or ({exc.field: [exc.message]} if exc.field else None)
        title = {403: "Permission denied", 409: "Conflict"}.get(exc.status, "Request refused")
        if exc.status == 403 and request is not None:
            security_event_record(
                kind=SecurityEventKind.PERMISSION_DENIED,
                request=request._request,
                user=request.user,
                reason=exc.message,
            )
        return _response(
            problem(status_code=exc.status, code=exc.code, title=title, detail=exc.message, errors=errors)
        )
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    if isinstance(exc, ProtectedError | RestrictedError):
        related = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        names = sorted({str(obj._meta.verbose_name_plural) for obj in related})
        return _response(
            problem(
                status_code=409,
                code="in_use",
                title="Conflict",
                detail=f"Other records still refer to this one ({', '.join(names)}); "
                "change or remove them first.",
            )
        )
    if isinstance(exc, IntegrityError):
        # A uniqueness race lost to a concurrent write: validation saw no clash, the database did.
        return _response(
            problem(
                status_code=409,
                code="conflict",
                title="Conflict",
                detail="The change clashes with a record written at the same time. Reload and retry.",
            )
        )
    if isinstance(exc, DataError):
        return _response(
            problem(
                status_code=400,
                code="invalid",
                title="Invalid input",
                detail="A value is out of the range the database can store.",
            )
        )
    if isinstance(exc, RequestDataTooBig):
        return _response(
            problem(
                status_code=413,
                code="too_large",
                title="Request body too large",
                detail="The request body is larger than this server accepts.",
            )
        )
    if isinstance(exc, DjangoPermissionDenied | exceptions.PermissionDenied) and request is not None:
        security_event_record(
            kind=SecurityEventKind.PERMISSION_DENIED,
            request=request._request,
            user=request.user,
            reason=str(exc),
        )

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            status_code=response.status_code,
            code="invalid",
            title="Invalid input",
            detail="Some fields are invalid; see errors.",
            errors=_flatten(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}),
        )
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "not_found"
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        body = problem(
            status_code=response.status_code,
            code=code if isinstance(code, str) else "error",
            title=_TITLES.get(response.status_code, "Error"),
            detail=str(detail),
        )
    headers = {
        key: value for key, value in response.items() if key in ("WWW-Authenticate", "Retry-After", "Allow")
    }
    return _response(body, headers)


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    428: "Precondition required",
    429: "Too many requests",
}


def problem_json_response(status_code: int, code: str, detail: str) -> JsonResponse:
    """For errors raised outside DRF views (unknown /api/ URLs, server errors)."""
    body = problem(status_code=status_code, code=code, title=_TITLES.get(status_code, "Error"), detail=detail)
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
