"""Demo portfolio: about thirty services across business, technical and support types, their
dependencies, offerings, objectives, providers with contracts, calendars and support policies."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from opsdesk.accounts.models import Location, Team, User
from opsdesk.core.services import record_create
from opsdesk.portfolio import services
from opsdesk.portfolio.choices import Stage
from opsdesk.portfolio.models import (
    BusinessCalendar,
    BusinessObjective,
    Contract,
    Kpi,
    Offering,
    Provider,
    ProviderContact,
    Service,
    ServiceLocation,
    ServiceObjective,
    ServiceSupportTier,
    SupportPolicy,
)

WEEKDAY = [["08:00", "18:00"]]
CALENDARS = [
    (
        "Berlin office hours",
        "Europe/Berlin",
        "DE",
        "BE",
        {
            "mon": WEEKDAY,
            "tue": WEEKDAY,
            "wed": WEEKDAY,
            "thu": WEEKDAY,
            "fri": WEEKDAY,
            "sat": [],
            "sun": [],
        },
    ),
    (
        "London office hours",
        "Europe/London",
        "GB",
        "ENG",
        {
            "mon": WEEKDAY,
            "tue": WEEKDAY,
            "wed": WEEKDAY,
            "thu": WEEKDAY,
            "fri": WEEKDAY,
            "sat": [],
            "sun": [],
        },
    ),
    (
        "24×7",
        "UTC",
        "",
        "",
        {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    ),
]
# name, type, stage, criticality (1–4), delivery type, calendar, channels, depends on, description
SERVICES = [
    (
        "Data Centre Hosting",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["api"],
        [],
        "Racks, power and cooling in the Frankfurt data centre.",
    ),
    (
        "Network",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["phone"],
        ["Data Centre Hosting"],
        "Office LAN and the WAN between sites.",
    ),
    (
        "Wi-Fi",
        "technical",
        "catalogue",
        2,
        "in_house",
        "Berlin office hours",
        ["portal"],
        ["Network"],
        "Wireless access in every office, with a guest network.",
    ),
    (
        "Internet Access",
        "technical",
        "catalogue",
        1,
        "outsourced",
        "24×7",
        ["phone"],
        ["Network"],
        "Redundant internet links at every site.",
    ),
    (
        "Firewall & Security Gateway",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["phone"],
        ["Network"],
        "Perimeter firewalls, web filtering and intrusion prevention.",
    ),
    (
        "Identity & Access",
        "technical",
        "catalogue",
        1,
        "hybrid",
        "24×7",
        ["portal", "api"],
        ["Network", "Virtual Servers"],
        "Accounts, passwords, single sign-on and multi-factor authentication.",
    ),
    (
        "DNS & DHCP",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["api"],
        ["Virtual Servers"],
        "Name resolution and addresses for every device.",
    ),
    (
        "Virtual Servers",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["portal", "api"],
        ["Data Centre Hosting", "Storage"],
        "Virtual machines on the VMware cluster.",
    ),
    (
        "Storage",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["api"],
        ["Data Centre Hosting"],
        "Block and file storage with snapshots.",
    ),
    (
        "Database Platform",
        "technical",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["portal", "api"],
        ["Virtual Servers", "Backup & Restore"],
        "Managed PostgreSQL and SQL Server databases.",
    ),
    (
        "Backup & Restore",
        "technical",
        "catalogue",
        1,
        "outsourced",
        "24×7",
        ["portal"],
        ["Storage"],
        "Nightly backups, 30-day retention, restores on request.",
    ),
    (
        "Cloud Platform",
        "technical",
        "catalogue",
        2,
        "cloud",
        "24×7",
        ["portal", "api"],
        ["Identity & Access", "Internet Access"],
        "Governed accounts on the public cloud.",
    ),
    (
        "Monitoring",
        "technical",
        "catalogue",
        2,
        "in_house",
        "24×7",
        ["api"],
        ["Network", "Virtual Servers"],
        "Availability and performance monitoring with alerting.",
    ),
    (
        "Certificates",
        "technical",
        "catalogue",
        2,
        "in_house",
        "Berlin office hours",
        ["portal"],
        ["Identity & Access"],
        "TLS certificates for internal and public sites.",
    ),
    (
        "E-mail & Calendar",
        "business",
        "catalogue",
        1,
        "cloud",
        "24×7",
        ["portal", "email", "phone"],
        ["Identity & Access", "Internet Access"],
        "Mailboxes, shared calendars and distribution lists.",
    ),
    (
        "Teams & Collaboration",
        "business",
        "catalogue",
        2,
        "cloud",
        "Berlin office hours",
        ["portal", "chat"],
        ["Identity & Access", "Internet Access"],
        "Chat, meetings and team sites.",
    ),
    (
        "File Sharing",
        "business",
        "catalogue",
        3,
        "cloud",
        "Berlin office hours",
        ["portal"],
        ["Identity & Access"],
        "Personal and shared document storage.",
    ),
    (
        "ERP",
        "business",
        "catalogue",
        1,
        "in_house",
        "24×7",
        ["portal", "phone"],
        ["Database Platform", "Identity & Access", "Virtual Servers"],
        "Finance, purchasing and logistics (SAP).",
    ),
    (
        "CRM",
        "business",
        "catalogue",
        2,
        "cloud",
        "London office hours",
        ["portal", "email"],
        ["Identity & Access", "Internet Access"],
        "Customer accounts, opportunities and service cases.",
    ),
    (
        "HR Portal",
        "business",
        "catalogue",
        3,
        "outsourced",
        "Berlin office hours",
        ["portal"],
        ["Identity & Access"],
        "Leave requests, payslips and personal data for employees.",
    ),
    (
        "Payroll",
        "business",
        "catalogue",
        1,
        "outsourced",
        "Berlin office hours",
        ["email"],
        ["HR Portal", "ERP"],
        "Monthly payroll for all entities.",
    ),
    (
        "Intranet",
        "business",
        "catalogue",
        3,
        "in_house",
        "Berlin office hours",
        ["portal"],
        ["Virtual Servers", "Identity & Access"],
        "News, policies and the company directory.",
    ),
    (
        "Business Intelligence",
        "business",
        "catalogue",
        2,
        "hybrid",
        "Berlin office hours",
        ["portal"],
        ["Database Platform", "ERP", "CRM"],
        "Dashboards and reports on sales and finance.",
    ),
    (
        "Web Shop",
        "business",
        "catalogue",
        1,
        "cloud",
        "24×7",
        ["portal", "email", "phone"],
        ["Cloud Platform", "ERP", "Certificates"],
        "The customer-facing online shop.",
    ),
    (
        "Telephony",
        "business",
        "catalogue",
        2,
        "outsourced",
        "24×7",
        ["phone"],
        ["Network", "Internet Access"],
        "Desk phones, softphones and the call centre.",
    ),
    (
        "Expense Management",
        "business",
        "pipeline",
        3,
        "cloud",
        "Berlin office hours",
        ["portal"],
        ["Identity & Access", "ERP"],
        "Receipts and travel expenses from a mobile app (in planning).",
    ),
    (
        "Fax Gateway",
        "business",
        "retired",
        4,
        "in_house",
        "Berlin office hours",
        ["email"],
        ["Telephony"],
        "Fax to e-mail. Retired: use e-mail or the supplier portal.",
    ),
    (
        "Service Desk",
        "support",
        "catalogue",
        1,
        "in_house",
        "London office hours",
        ["portal", "email", "chat", "phone"],
        [],
        "Single point of contact for every IT question, incident and request.",
    ),
    (
        "End-User Devices",
        "support",
        "catalogue",
        2,
        "hybrid",
        "Berlin office hours",
        ["portal"],
        ["Identity & Access"],
        "Laptops and desktops: ordering, set-up, repair and replacement.",
    ),
    (
        "Mobile Devices",
        "support",
        "catalogue",
        3,
        "outsourced",
        "Berlin office hours",
        ["portal"],
        ["Identity & Access", "E-mail & Calendar"],
        "Company phones and tablets, managed and secured.",
    ),
    (
        "Printing",
        "support",
        "catalogue",
        4,
        "outsourced",
        "Berlin office hours",
        ["portal"],
        ["Network"],
        "Multi-function printers with follow-me printing.",
    ),
    (
        "On-site Support",
        "support",
        "catalogue",
        3,
        "in_house",
        "Berlin office hours",
        ["portal", "phone"],
        [],
        "Hands-on help at the desk in every office.",
    ),
]
OWNERS = {
    "owner": [
        "E-mail & Calendar",
        "Teams & Collaboration",
        "File Sharing",
        "End-User Devices",
        "Mobile Devices",
        "Expense Management",
    ]
}
# service, offering, included, cost, price, period, locations (empty: everywhere)
OFFERINGS = [
    (
        "End-User Devices",
        "Laptop — standard",
        '14" laptop, docking station, 2 monitors',
        "45",
        "60",
        "month",
        [],
    ),
    (
        "End-User Devices",
        "Laptop — engineering",
        '16" workstation, 64 GB RAM, docking station',
        "95",
        "120",
        "month",
        ["Berlin HQ", "Frankfurt Data Centre"],
    ),
    ("Mobile Devices", "Smartphone", "Phone, case, managed e-mail", "22", "30", "month", []),
    ("E-mail & Calendar", "Mailbox — 50 GB", "Mailbox, calendar, mobile sync", "6", "8", "month", []),
    ("E-mail & Calendar", "Shared mailbox", "Team mailbox with delegated access", "2", "3", "month", []),
    (
        "Virtual Servers",
        "VM — small",
        "2 vCPU, 8 GB RAM, 100 GB disk, backup",
        "55",
        "70",
        "month",
        ["Frankfurt Data Centre"],
    ),
    (
        "Virtual Servers",
        "VM — large",
        "8 vCPU, 32 GB RAM, 500 GB disk, backup",
        "190",
        "240",
        "month",
        ["Frankfurt Data Centre"],
    ),
    (
        "Database Platform",
        "PostgreSQL — managed",
        "Primary and replica, backups, monitoring",
        "310",
        "400",
        "month",
        ["Frankfurt Data Centre"],
    ),
    (
        "Printing",
        "Printing — per user",
        "Follow-me printing, 500 pages",
        "4",
        "5",
        "month",
        ["Berlin HQ", "London Office", "New York Office"],
    ),
    (
        "On-site Support",
        "Desk visit",
        "A technician at your desk within a day",
        "35",
        "45",
        "one_off",
        ["Berlin HQ", "London Office", "New York Office", "Singapore Office"],
    ),
]
# name, kind, e-mail, services, contract: reference, start, years, notice days, cost, period
PROVIDERS = [
    (
        "Contoso Cloud",
        "cloud",
        "enterprise@contoso.example",
        ["Cloud Platform", "E-mail & Calendar", "Teams & Collaboration"],
        ("CC-2024-118", date(2024, 1, 1), 3, 90, "186000", "year"),
    ),
    (
        "Fabrikam Networks",
        "vendor",
        "support@fabrikam.example",
        ["Network", "Wi-Fi", "Firewall & Security Gateway"],
        ("FN-7781", date(2023, 7, 1), 4, 120, "9400", "month"),
    ),
    (
        "Northwind Hardware",
        "vendor",
        "orders@northwind.example",
        ["End-User Devices"],
        ("NW-LEASE-22", date(2025, 4, 1), 3, 60, "41000", "quarter"),
    ),
    (
        "Litware Software",
        "vendor",
        "licensing@litware.example",
        ["ERP", "Business Intelligence"],
        ("LW-ERP-01", date(2022, 1, 1), 5, 180, "240000", "year"),
    ),
    (
        "Adatum Managed Services",
        "contractor",
        "bids@adatum.example",
        ["Backup & Restore", "Payroll", "HR Portal"],
        ("AD-MS-2025", date(2025, 1, 1), 2, 90, "12500", "month"),
    ),
    (
        "Tailspin Telecom",
        "vendor",
        "business@tailspin.example",
        ["Telephony", "Internet Access"],
        ("TT-5520", date(2024, 10, 1), 2, 90, "7300", "month"),
    ),
    (
        "Proseware Security",
        "contractor",
        "soc@proseware.example",
        ["Firewall & Security Gateway", "Monitoring"],
        ("PS-SOC-3", date(2025, 6, 1), 1, 30, "58000", "year"),
    ),
    (
        "Wingtip Print",
        "vendor",
        "service@wingtip.example",
        ["Printing"],
        ("WP-MPS-9", date(2023, 3, 1), 4, 90, "2100", "month"),
    ),
]
OBJECTIVES = [
    (
        "Enable hybrid work",
        "objective",
        [("Employees working remotely without IT blockers", "%", "95", "91")],
        [
            ("Teams & Collaboration", 5),
            ("E-mail & Calendar", 4),
            ("End-User Devices", 4),
            ("Identity & Access", 4),
        ],
    ),
    (
        "Reduce IT cost per employee by 10%",
        "objective",
        [("IT cost per employee", "EUR", "4200", "4550")],
        [("Cloud Platform", 3), ("Printing", 2), ("Virtual Servers", 3)],
    ),
    (
        "Protect customer data",
        "objective",
        [("Critical vulnerabilities open > 30 days", "count", "0", "3")],
        [("Firewall & Security Gateway", 5), ("Identity & Access", 5), ("Backup & Restore", 4)],
    ),
    (
        "Grow online sales by 20%",
        "objective",
        [("Web shop availability", "%", "99.9", "99.95"), ("Online revenue growth", "%", "20", "14")],
        [("Web Shop", 5), ("CRM", 4), ("Business Intelligence", 3)],
    ),
    (
        "Order to cash",
        "capability",
        [("Days sales outstanding", "days", "35", "41")],
        [("ERP", 5), ("CRM", 3)],
    ),
    ("Sustainable IT", "objective", [("Devices refurbished or recycled", "%", "90", None)], []),
]
TIERS = {"L1": "Service Desk", "L2": "Workplace Support", "L3": "Platform Engineering"}
NETWORKED = {"Network", "Wi-Fi", "Internet Access", "Firewall & Security Gateway", "DNS & DHCP", "Telephony"}


def load_portfolio(admin: User) -> None:
    if Service.objects.filter(name=SERVICES[0][0]).exists():
        return  # loaded before; the demo portfolio is created once and then left to its users
    calendars = {}
    for name, tz, country, subdivision, hours in CALENDARS:
        calendars[name] = record_create(
            model=BusinessCalendar,
            actor=admin,
            data={
                "name": name,
                "time_zone": tz,
                "holiday_country": country,
                "holiday_subdivision": subdivision,
                "working_hours": hours,
            },
        )
    owners = {
        service: User.objects.get(username=username)
        for username, names in OWNERS.items()
        for service in names
    }
    teams = {team.name: team for team in Team.objects.all()}
    locations = {location.name: location for location in Location.objects.all()}
    by_name: dict[str, Service] = {}
    for name, kind, stage, criticality, delivery, calendar, channels, _, description in SERVICES:
        by_name[name] = services.service_create(
            actor=admin,
            data={
                "name": name,
                "type": kind,
                "stage": Stage.PIPELINE if stage == "retired" else stage,
                "criticality": criticality,
                "delivery_type": delivery,
                "service_hours": calendars[calendar],
                "channels": channels,
                "description": description,
                "owner": owners.get(name, admin),
                "support_languages": ["en", "de"],
                "support_mode": "remote_and_on_site" if kind == "support" else "remote",
                "service_levels": "P1 restored within 4 business hours; P3 within 3 business days.",
            },
        )
        if stage == "retired":
            services.service_change_stage(
                actor=admin,
                service=by_name[name],
                to_stage=Stage.RETIRED,
                note="Replaced by e-mail and the supplier portal",
            )
    for name, *_, depends, _ in SERVICES:
        if depends:
            services.service_update(
                actor=admin, service=by_name[name], data={}, depends_on=[by_name[item] for item in depends]
            )
    for name, service in by_name.items():
        for tier, team_name in TIERS.items():
            team = teams["Network Operations"] if tier == "L2" and name in NETWORKED else teams[team_name]
            ServiceSupportTier.objects.create(service=service, tier=tier, team=team, staffed_by="in-house")
        service.escalation_teams.set([teams["Platform Engineering"]])
    for site in locations.values():
        for name in ("Service Desk", "E-mail & Calendar", "End-User Devices", "Network"):
            on_site = site.name != "Singapore Office" and name in ("End-User Devices", "Network")
            ServiceLocation.objects.create(
                service=by_name[name],
                location=site,
                delivery="on_site_team" if on_site else "remote_only",
                on_site_team=teams["Workplace Support"] if on_site else None,
            )
    for service, name, included, cost, price, period, sites in OFFERINGS:
        offering = Offering.objects.create(
            service=by_name[service],
            name=name,
            included=included,
            cost=Decimal(cost),
            price=Decimal(price),
            period=period,
        )
        offering.locations.set([locations[site] for site in sites])
    _load_objectives(admin, by_name)
    _load_sourcing(admin, by_name)
    _load_policies(admin, by_name)


def _load_objectives(admin: User, by_name: dict[str, Service]) -> None:
    year = timezone.localdate().year
    for name, kind, kpis, served in OBJECTIVES:
        objective = BusinessObjective.objects.create(
            name=name, kind=kind, owner=admin, period_start=date(year, 1, 1), period_end=date(year, 12, 31)
        )
        for kpi_name, unit, target, actual in kpis:
            lower = kpi_name.startswith(("IT cost", "Critical", "Days"))
            Kpi.objects.create(
                objective=objective,
                name=kpi_name,
                unit=unit,
                target=Decimal(target),
                actual=Decimal(actual) if actual else None,
                direction="lower" if lower else "higher",
            )
        for service, alignment in served:
            ServiceObjective.objects.create(
                service=by_name[service], objective=objective, alignment=alignment
            )


def _load_sourcing(admin: User, by_name: dict[str, Service]) -> None:
    manager = User.objects.filter(username="manager").first() or admin
    today = timezone.localdate()
    for index, (name, kind, email, served, terms) in enumerate(PROVIDERS):
        provider = Provider.objects.create(
            name=name, kind=kind, email=email, website=f"https://{email.split('@')[1]}"
        )
        provider.services.set([by_name[item] for item in served])
        ProviderContact.objects.create(
            provider=provider, name=f"{name.split()[0]} account manager", role="Account manager", email=email
        )
        reference, start, years, notice, cost, period = terms
        end = start.replace(year=start.year + years) - timedelta(days=1)
        if index == 0:
            # One contract whose renewal reminder is due now, so the reminder can be seen working.
            end = today + timedelta(days=notice + 14)
        contract = Contract.objects.create(
            provider=provider,
            reference=reference,
            owner=manager,
            start_date=start,
            end_date=end,
            notice_period_days=notice,
            cost=Decimal(cost),
            cost_period=period,
            auto_renew=index % 2 == 0,
        )
        contract.services.set([by_name[item] for item in served])
    providers = {provider.name: provider for provider in Provider.objects.all()}
    evaluation = services.evaluation_create(
        actor=admin,
        name="Backup provider from 2027",
        service=by_name["Backup & Restore"],
        description="Adatum's contract ends; compare it with two alternatives.",
        providers=[
            providers["Adatum Managed Services"],
            providers["Contoso Cloud"],
            providers["Proseware Security"],
        ],
    )
    scores = {
        "Adatum Managed Services": (6, 8, 7, 6),
        "Contoso Cloud": (8, 7, 6, 9),
        "Proseware Security": (5, 9, 8, 5),
    }
    criteria = list(evaluation.criteria.order_by("-weight", "name"))
    for candidate in evaluation.candidates.select_related("provider"):
        for criterion, score in zip(criteria, scores[candidate.provider.name], strict=True):
            services.evaluation_score(
                actor=admin, candidate=candidate, criterion=criterion, score=Decimal(score)
            )


def _load_policies(admin: User, by_name: dict[str, Service]) -> None:
    standard = SupportPolicy.objects.create(name="Standard support")
    standard.services.set([service for service in by_name.values() if service.criticality >= 2])
    critical = SupportPolicy.objects.create(name="Critical systems 24×7")
    critical.services.set([service for service in by_name.values() if service.criticality == 1])
    texts = {
        standard: (
            "Monday to Friday, 08:00–18:00 local time, except public holidays.",
            "All company-issued devices and the business services they use. Not covered: private devices.",
            "P1 — many people cannot work; P2 — one team blocked; P3 — one person affected; P4 — a question.",
            "Unresolved P1s go to the team lead after 1 hour and to the service owner after 4 hours.",
        ),
        critical: (
            "24 hours a day, 7 days a week, including public holidays.",
            "Production systems marked critical in the portfolio.",
            "P1 — service down or data at risk; P2 — degraded; P3 — minor fault.",
            "P1s page the on-call engineer at once and the service owner after 30 minutes.",
        ),
    }
    for policy, (hours, coverage, priorities, escalation) in texts.items():
        version = services.policy_version_create(
            actor=admin,
            policy=policy,
            data={
                "effective_from": date(timezone.localdate().year, 1, 1),
                "support_hours": hours,
                "coverage": coverage,
                "priority_definitions": priorities,
                "escalation_rules": escalation,
            },
        )
        services.policy_version_publish(actor=admin, version=version)
