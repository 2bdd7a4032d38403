"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

registry = CollectorRegistry(auto_describe=True)

http_requests = Counter(
    "opsdesk_http_requests_total",
    "HTTP requests served, by method, route and status code.",
    ["method", "route", "status"],
    registry=registry,
)
http_latency = Histogram(
    "opsdesk_http_request_duration_seconds",
    "Time to produce a response, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)
