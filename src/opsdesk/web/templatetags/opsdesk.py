"""Template helpers shared by every app's pages: sortable column headers, badges, audit values."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()

AVAILABILITY_BADGES = {
    "available": "text-bg-success",
    "off_shift": "text-bg-secondary",
    "away": "text-bg-warning",
    "out_of_office": "text-bg-danger",
}
JOB_STATUS_BADGES = {
    "queued": "text-bg-secondary",
    "running": "text-bg-info",
    "succeeded": "text-bg-success",
    "failed": "text-bg-danger",
}


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str):
    """A column header that sorts by ``key``; a second click reverses; keeps filters and search."""
    request = context["request"]
    current = request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == key:
        params["sort"], icon, state = f"-{key}", "bi-sort-up", "ascending"
    elif current == f"-{key}":
        params["sort"], icon, state = key, "bi-sort-down", "descending"
    else:
        params["sort"], icon, state = key, "", "none"
    marker = format_html(' <i class="bi {}" aria-hidden="true"></i>', icon) if icon else ""
    return format_html(
        '<th scope="col" aria-sort="{}"><a class="sort-link" href="?{}">{}{}</a></th>',
        state,
        params.urlencode(),
        label,
        marker,
    )


@register.filter
def availability_badge(value: str) -> str:
    return AVAILABILITY_BADGES.get(value, "text-bg-secondary")


@register.filter
def job_badge(value: str) -> str:
    return JOB_STATUS_BADGES.get(value, "text-bg-secondary")


@register.filter
def audit_value(value) -> str:
    """Show an audit before/after value for people: empty and missing values are visible."""
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


@register.filter
def field_label(name: str) -> str:
    """``organization_id`` → ``organization``; ``job_title`` → ``job title``."""
    if name.endswith("_id"):
        name = name[:-3]
    return name.replace("_", " ")
