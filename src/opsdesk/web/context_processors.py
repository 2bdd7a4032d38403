"""The navigation every page shows: only what exists and what the user may open.

A link the user cannot follow is worse than no link, so each item is checked against the
same permission rules the page itself applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Absence, Location, Organization, Skill, Team, User
from opsdesk.catalog.models import CatalogItem
from opsdesk.catalog.reports import may_see_figures
from opsdesk.core.models import AuditEntry, Job, SecurityEvent
from opsdesk.core.querysets import user_can
from opsdesk.mail.models import InboundMessage, Mailbox
from opsdesk.notifications.models import NotificationTemplate, OutboundMessage
from opsdesk.portfolio.models import (
    BusinessCalendar,
    BusinessObjective,
    Contract,
    Provider,
    Service,
    SourcingEvaluation,
    SupportPolicy,
)
from opsdesk.sla.models import SlaPolicy
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str
    active: bool = False


@dataclass(frozen=True)
class NavSection:
    label: str
    items: list[NavItem]


PEOPLE = (
    ("People", "accounts:user_list", "people", User),
    ("Organisations", "accounts:organization_list", "building", Organization),
    ("Teams", "accounts:team_list", "diagram-3", Team),
    ("Locations", "accounts:location_list", "geo-alt", Location),
    ("Skills", "accounts:skill_list", "mortarboard", Skill),
    ("Out of office", "accounts:absence_list", "calendar-x", Absence),
)
# The staff-only overviews (alignment, costs) are gated on a model only staff may read.
PORTFOLIO = (
    ("Services", "portfolio:service_list", "grid-3x3-gap", Service),
    ("Objectives", "portfolio:objective_list", "bullseye", BusinessObjective),
    ("Alignment", "portfolio:alignment", "signpost-2", BusinessObjective),
    ("Costs", "portfolio:costs", "cash-coin", Contract),
    ("Delivery by site", "portfolio:locations", "geo-alt", Service),
    ("Providers", "portfolio:provider_list", "truck", Provider),
    ("Contracts", "portfolio:contract_list", "file-earmark-text", Contract),
    ("Evaluations", "portfolio:evaluation_list", "clipboard-data", SourcingEvaluation),
    ("Support policies", "portfolio:policy_list", "shield-check", SupportPolicy),
    ("Service hours", "portfolio:calendar_list", "calendar-week", BusinessCalendar),
)
SERVICE_DESK = (
    ("Triage", "tickets:queue", ["triage"], "funnel"),
    ("My tickets", "tickets:queue", ["mine"], "person-check"),
    ("Team queue", "tickets:queue", ["team"], "people"),
    ("Escalated", "tickets:queue", ["escalated"], "arrow-up-circle"),
    ("Chat queue", "chat:queue", [], "chat-dots"),
    ("Problems", "tickets:problem_list", [], "bug"),
    ("Workload", "tickets:workload", [], "bar-chart-steps"),
    ("Escalations", "tickets:escalations", [], "graph-up-arrow"),
)
# How requests reach the desk and how it answers: for those who keep the channels running.
CHANNELS = (
    ("Mailboxes", "mail:mailbox_list", "mailbox", Mailbox),
    ("Inbound mail", "mail:message_list", "envelope-arrow-down", InboundMessage),
    ("Webhooks", "webhooks:source_list", "broadcast", WebhookSource),
    ("Webhook deliveries", "webhooks:delivery_list", "inboxes", WebhookDelivery),
    ("Notification templates", "notifications:templates", "envelope-paper", NotificationTemplate),
    ("Outbox", "notifications:outbox", "envelope-exclamation", OutboundMessage),
)
ADMINISTRATION = (
    ("Audit log", "audit_log", "journal-text", AuditEntry),
    ("Security log", "security_log", "shield-lock", SecurityEvent),
    ("Jobs", "job_list", "gear", Job),
)


def _item(request, label: str, url: str, icon: str) -> NavItem:
    path = request.path
    active = path == url if url in ("/", "/portal/") else path.startswith(url)
    return NavItem(label=label, url=url, icon=icon, active=active)


def _service_desk(request, user) -> list[NavSection]:
    """Agents get their queues and problems; requesters the tickets they follow."""
    if user.is_agent:
        items = [
            _item(request, label, reverse(name, args=args), icon) for label, name, args, icon in SERVICE_DESK
        ]
        # The desk's settings: for those who change them (managers, admins) or their team's
        # assignment (team leads); other agents may read them but have no use for the link.
        if not user.is_read_only and (user.is_manager or user.role == Role.TEAM_LEAD):
            items.append(_item(request, "Desk settings", reverse("tickets:settings"), "sliders"))
        items.append(_item(request, "Knowledge base", reverse("knowledge:list"), "book"))
        return [NavSection("Service desk", items)]
    return [
        NavSection(
            "",
            [
                _item(request, "My tickets", reverse("tickets:requester_list"), "chat-square-text"),
                _item(request, "Knowledge base", reverse("knowledge:list"), "book"),
            ],
        )
    ]


def _service_levels(request, user) -> list[NavSection]:
    """The SLA policies and the compliance report, for staff."""
    if not user_can(user, "view", SlaPolicy):
        return []
    items = [
        _item(request, "Service levels", reverse("sla:policy_list"), "stopwatch"),
        _item(request, "SLA report", reverse("sla_reports:compliance"), "graph-up"),
    ]
    return [NavSection("Service levels", items)]


def _allowed(request, user, entries) -> list[NavItem]:
    """The entries whose model the user may view: (label, url name, icon, model)."""
    return [
        _item(request, label, reverse(name), icon)
        for label, name, icon, model in entries
        if user_can(user, "view", model)
    ]


def _learning(request, user) -> list[NavSection]:
    """Every agent's own learning; the skills matrix and progress for leads and managers."""
    if not user.is_agent:
        return []
    items = [
        _item(request, "My learning", reverse("learning:my_learning"), "mortarboard"),
        _item(request, "Learning paths", reverse("learning:learningpath_list"), "signpost-split"),
        _item(request, "Training", reverse("learning:trainingrecord_list"), "journal-check"),
        _item(request, "Certifications", reverse("learning:certification_list"), "patch-check"),
    ]
    if user.is_manager or user.role == Role.TEAM_LEAD:
        items += [
            _item(request, "Skills matrix", reverse("learning:skills_matrix"), "grid-3x3"),
            _item(request, "Learning progress", reverse("learning:progress"), "graph-up-arrow"),
        ]
    return [NavSection("Learning", items)]


def _catalogue(request, user) -> list[NavSection]:
    """Everyone orders and approves; agents work the fulfilment queue; managers keep the
    catalogue; managers and team leads read its figures."""
    items = [
        _item(request, "Order something", reverse("catalog:browse"), "bag"),
        _item(request, "My orders", reverse("catalog:my_requests"), "box-seam"),
        _item(request, "Approvals", reverse("catalog:approvals"), "check2-square"),
    ]
    if user.is_agent:
        items.append(_item(request, "Fulfilment tasks", reverse("catalog:tasks"), "list-check"))
    if user_can(user, "add", CatalogItem):
        items.append(_item(request, "Catalogue items", reverse("catalog:items_manage"), "shop"))
    if may_see_figures(user):
        items.append(_item(request, "Catalogue figures", reverse("catalog:reports"), "bar-chart"))
    return [NavSection("Request catalogue", items)]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    home = reverse("home") if user.is_agent else reverse("portal")
    sections = [NavSection("", [_item(request, "Home", home, "house")])]
    sections.extend(_service_desk(request, user))
    sections.extend(_catalogue(request, user))
    people = _allowed(request, user, PEOPLE)
    if people:
        sections.append(NavSection("People", people))
    if user.is_agent:
        portfolio = _allowed(request, user, PORTFOLIO)
        if portfolio:
            sections.append(NavSection("Portfolio", portfolio))
        sections.extend(_service_levels(request, user))
        sections.extend(_learning(request, user))
    channels = _allowed(request, user, CHANNELS)
    if channels:
        sections.append(NavSection("Channels", channels))
    admin = _allowed(request, user, ADMINISTRATION)
    if user.is_agent:
        admin.append(NavItem("API docs", reverse("api-docs"), "braces"))
    if user.is_staff:
        admin.append(NavItem("Django admin", reverse("admin:index"), "tools"))
    if admin:
        sections.append(NavSection("Administration", admin))
    return {"nav_sections": sections, "nav_home_url": home}
