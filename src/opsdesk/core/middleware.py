"""Request middleware: audit context for web requests, and request metrics."""

from __future__ import annotations

import time
import uuid

from opsdesk.core.audit import AuditContext, _current
from opsdesk.core.choices import Channel
from opsdesk.core.metrics import http_latency, http_requests
from opsdesk.core.security_events import client_ip

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class AuditContextMiddleware:
    """Stamps every change made while serving a web request with its user and ``web``.

    API views re-stamp with ``api`` and the token's user once DRF has authenticated.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        context = AuditContext(
            actor=user if user is not None and user.is_authenticated else None,
            channel=Channel.API if request.path.startswith("/api/") else Channel.WEB,
            request_id=request.headers.get("X-Request-ID", "")[:32] or uuid.uuid4().hex,
            ip=client_ip(request),
        )
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The route pattern, never the raw path: ids in paths would explode the label set.
        route = match.route if match is not None and match.route else "unmatched"
        http_latency.labels(route).observe(time.perf_counter() - started)
        method = request.method if request.method in KNOWN_METHODS else "other"
        http_requests.labels(method, route, str(response.status_code)).inc()
        return response
