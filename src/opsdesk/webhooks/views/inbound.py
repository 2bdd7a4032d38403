"""The endpoint other systems post to: ``POST /webhooks/in/<slug>/``.

No session, no CSRF token: the HMAC signature is the credential. The view only reads the
request (within the size limit) and answers; ``services.delivery_receive`` decides. Every
refusal is an RFC 9457 problem detail, and nothing the sender does can make it answer 500.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from opsdesk.core.api.errors import PROBLEM_CONTENT_TYPE, problem
from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.security_events import client_ip, security_event_record
from opsdesk.webhooks.constants import (
    DELIVERY_HEADER,
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from opsdesk.webhooks.selectors import source_for_endpoint
from opsdesk.webhooks.services import Arrival, delivery_receive

logger = logging.getLogger("opsdesk.webhooks")

TITLES = {
    400: "Bad request",
    401: "Signature refused",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Delivery could not be processed",
}


def problem_response(status: int, code: str, detail: str, headers: dict | None = None) -> JsonResponse:
    body = problem(status_code=status, code=code, title=TITLES.get(status, "Error"), detail=detail)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _declared_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    return int(raw) if raw.isdigit() else None


def _read_body(request: HttpRequest) -> tuple[bytes, bool, int]:
    """The body, whether it passed the limit, and its declared size. Reads at most one byte over
    the limit, so a huge body costs us nothing (Django's own 2 MB cap never comes into play)."""
    declared = _declared_length(request)
    if declared is not None and declared > MAX_BODY_BYTES:
        return b"", True, declared
    body = request.read(MAX_BODY_BYTES + 1)
    return body, len(body) > MAX_BODY_BYTES, declared or len(body)


@csrf_exempt
def receive(request: HttpRequest, slug: str) -> JsonResponse:
    if request.method != "POST":
        return problem_response(
            405, "method_not_allowed", "Deliveries are POSTed.", headers={"Allow": "POST"}
        )
    source = source_for_endpoint(slug=slug)
    if source is None:
        return problem_response(404, "not_found", "No active webhook source at this address.")
    body, oversized, declared = _read_body(request)
    arrival = Arrival(
        body=body,
        content_type=request.META.get("CONTENT_TYPE", ""),
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
        delivery_id=request.headers.get(DELIVERY_HEADER, ""),
        remote_ip=client_ip(request),
        oversized=oversized,
        declared_bytes=declared,
    )
    outcome = delivery_receive(source=source, arrival=arrival)
    if outcome.signature_rejected:
        security_event_record(
            kind=SecurityEventKind.TOKEN_REJECTED,
            request=request,
            webhook_source=source.slug,
            reason=outcome.code,
        )
    if outcome.is_problem:
        return problem_response(outcome.http_status, outcome.code, outcome.detail)
    return JsonResponse(outcome.result, status=outcome.http_status)
