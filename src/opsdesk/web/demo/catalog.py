"""Demo request catalogue: six shelves of about twenty items on the demo's offerings, each with an
order form (conditional fields in several), approval rules (none, the requester's manager, the
service owner, a named group's 2 of 3, sequences of these) and a fulfilment plan (parallel and
sequential tasks); three approval groups; the demo people's managers; and a handful of orders
placed, decided and worked through the services, so the pages and the figures have content.

Idempotent: items are added by slug when missing; the orders are placed once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from opsdesk.accounts.models import Organization, Team, User
from opsdesk.accounts.services import user_update
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision
from opsdesk.catalog.models import ApprovalGroup, CatalogCategory, CatalogItem, CatalogRequest
from opsdesk.catalog.services.approvals import approval_decide
from opsdesk.catalog.services.fulfilment import task_complete, task_start
from opsdesk.catalog.services.items import (
    approval_group_save,
    approval_steps_save,
    category_save,
    item_save,
    task_plan_save,
)
from opsdesk.catalog.services.ordering import request_order
from opsdesk.portfolio.models import Offering, Service

HOUR = 60  # task targets are in business minutes
DAY = 8 * HOUR
STAFF_ROLES = ["agent", "team_lead", "service_owner", "manager", "admin"]

# username → their manager's username (who approves "the requester's manager" steps)
MANAGERS = {
    "requester": "chen",
    "chen": "manager",
    "garcia": "manager",
    "agent": "lead",
    "noc": "lead",
    "platform": "lead",
    "lead": "manager",
    "owner": "manager",
}
# (name, description, members)
GROUPS = [
    (
        "Finance approvers",
        "Budget holders who approve spending and finance data access.",
        ["manager", "owner", "lead"],
    ),
    ("Security board", "Approves privileged access and firewall openings.", ["platform", "noc", "manager"]),
    ("Change advisory board", "Approves new production systems.", ["manager", "platform", "lead"]),
]
# (name, slug, description)
CATEGORIES = [
    ("Hardware", "hardware", "Laptops, phones, screens and accessories."),
    ("Software", "software", "Licences, mailboxes and collaboration add-ons."),
    ("Access & accounts", "access", "Accounts for new people, shares and business applications."),
    ("Network & remote access", "network", "VPN, Wi-Fi and firewall openings."),
    ("Workplace", "workplace", "Printing, desk moves and help at your desk."),
    ("Servers & databases", "servers", "Virtual servers and managed databases for project teams."),
]
# Offerings the catalogue needs beside the portfolio's own: (service, name, included, cost, price)
EXTRA_OFFERINGS = [
    ("Identity & Access", "Accounts and access", "Accounts, groups and application roles", "0", "0"),
    ("File Sharing", "Shared folder", "A team folder with managed permissions", "1", "2"),
    ("Firewall & Security Gateway", "Remote access (VPN)", "VPN client and a second factor", "3", "4"),
    ("Firewall & Security Gateway", "Firewall opening", "A reviewed firewall rule", "0", "60"),
    ("Wi-Fi", "Guest access", "Guest Wi-Fi vouchers for an event", "0", "0"),
    ("Teams & Collaboration", "Software licence", "A licence from the managed software list", "5", "8"),
    ("ERP", "Application access", "A role in a business application", "0", "0"),
]


# --- form fields, briefly -------------------------------------------------------------------------
def _field(key: str, label: str, kind: str, *, required: bool = False, **more: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": kind, "required": required, **more}


def text(key, label, **more):
    return _field(key, label, "text", **more)


def long_text(key, label, **more):
    return _field(key, label, "long_text", **more)


def number(key, label, **more):
    return _field(key, label, "number", **more)


def choice(key, label, choices, **more):
    return _field(key, label, "choice", choices=choices, **more)


def multi(key, label, choices, **more):
    return _field(key, label, "multi_choice", choices=choices, **more)


def when(field: str, *values: str) -> dict[str, Any]:
    return {"field": field, "in": list(values)}


YES_NO = ["Yes", "No"]
SITES = ["Berlin HQ", "London Office", "New York Office", "Singapore Office"]
ENVIRONMENTS = ["Development", "Test", "Production"]


# --- approval rules, briefly ----------------------------------------------------------------------
def manager() -> dict[str, Any]:
    return {"kind": ApproverKind.MANAGER, "name": "Manager"}


def owner() -> dict[str, Any]:
    return {"kind": ApproverKind.SERVICE_OWNER, "name": "Service owner"}


def group(name: str, required: int = 2) -> dict[str, Any]:
    return {"kind": ApproverKind.GROUP, "group": name, "required": required, "name": name}


def task(stage: int, name: str, team: str, target: int, instructions: str = "") -> dict[str, Any]:
    return {
        "stage": stage,
        "name": name,
        "team": team,
        "target_minutes": target,
        "instructions": instructions,
    }


# name, slug, category, offering, price, days, summary, form, approval steps, task plan, extras
ITEMS: list[dict[str, Any]] = [
    {
        "name": "New laptop",
        "slug": "new-laptop",
        "category": "hardware",
        "offering": "Laptop — standard",
        "price": "1200",
        "days": 5,
        "summary": "A managed laptop with docking station, imaged and ready at your desk.",
        "form": [
            choice("model", "Model", ["Standard 14-inch", "Performance 16-inch"], required=True),
            long_text(
                "reason",
                "Why the performance model?",
                required=True,
                show_if=when("model", "Performance 16-inch"),
            ),
            choice("keyboard", "Keyboard layout", ["German", "UK", "US"], required=True),
            multi("accessories", "Accessories", ["Headset", "Second monitor", "Backpack", "Mouse"]),
            _field("needed_by", "Needed by", "date"),
        ],
        "steps": [manager()],
        "tasks": [
            task(1, "Prepare and image the laptop", "Workplace Support", DAY),
            task(1, "Register the device and licences", "Service Desk", 4 * HOUR),
            task(2, "Hand over at the desk", "Workplace Support", DAY),
        ],
        "team": "Workplace Support",
    },
    {
        "name": "Engineering workstation",
        "slug": "engineering-workstation",
        "category": "hardware",
        "offering": "Laptop — engineering",
        "price": "2900",
        "days": 10,
        "summary": "A 16-inch workstation with 64 GB RAM for engineering work.",
        "form": [
            choice("memory", "Memory", ["64 GB", "128 GB"], required=True),
            choice("gpu", "Dedicated graphics card", YES_NO, required=True),
            long_text("gpu_use", "What needs the graphics card?", required=True, show_if=when("gpu", "Yes")),
            long_text("justification", "Business justification", required=True, max_length=2000),
        ],
        "steps": [manager(), group("Finance approvers")],
        "tasks": [
            task(1, "Order from the supplier", "Service Desk", 2 * DAY),
            task(2, "Image and enrol the workstation", "Workplace Support", DAY),
            task(3, "Hand over at the desk", "Workplace Support", DAY),
        ],
        "team": "Workplace Support",
        "roles": STAFF_ROLES,
    },
    {
        "name": "Smartphone",
        "slug": "smartphone",
        "category": "hardware",
        "offering": "Smartphone",
        "price": "650",
        "days": 3,
        "summary": "A managed company phone with e-mail, calendar and a case.",
        "form": [
            choice("model", "Model", ["iPhone 15", "Samsung Galaxy S24"], required=True),
            choice("port_number", "Keep an existing number?", YES_NO, required=True),
            text(
                "current_number",
                "Number to keep",
                required=True,
                placeholder="+44 20 7946 0000",
                show_if=when("port_number", "Yes"),
            ),
            choice("sim", "SIM", ["eSIM", "Physical SIM"], required=True),
        ],
        "steps": [manager()],
        "tasks": [
            task(1, "Enrol the phone in device management", "Workplace Support", 4 * HOUR),
            task(1, "Order the SIM or port the number", "Service Desk", DAY),
        ],
        "team": "Workplace Support",
    },
    {
        "name": "Monitor and docking station",
        "slug": "monitor-and-dock",
        "category": "hardware",
        "offering": "Laptop — standard",
        "price": "380",
        "days": 2,
        "summary": "Extra screens and a dock for the desk you use most.",
        "form": [
            number("monitors", "How many monitors", required=True, min=1, max=2, integer=True),
            choice("site", "Office", SITES, required=True),
            text("desk", "Desk or room", required=True, max_length=60),
        ],
        "steps": [],
        "tasks": [task(1, "Deliver and connect at the desk", "Workplace Support", DAY)],
        "team": "Workplace Support",
    },
    {
        "name": "Replace a damaged device",
        "slug": "replace-damaged-device",
        "category": "hardware",
        "offering": "Desk visit",
        "price": "0",
        "days": 3,
        "summary": "A broken screen, a dead battery, coffee in the keyboard: we swap it.",
        "form": [
            choice("device", "Device", ["Laptop", "Smartphone", "Monitor", "Headset"], required=True),
            long_text("what_happened", "What happened?", required=True),
            _field("photo", "Photo of the damage", "attachment"),
            choice(
                "data",
                "Is data on it that we must keep?",
                YES_NO,
                required=True,
                show_if=when("device", "Laptop", "Smartphone"),
            ),
        ],
        "steps": [],
        "tasks": [
            task(1, "Collect the device and hand a replacement", "Workplace Support", DAY),
            task(2, "Restore the data", "Workplace Support", DAY),
        ],
        "team": "Workplace Support",
    },
    {
        "name": "Software licence",
        "slug": "software-licence",
        "category": "software",
        "offering": "Software licence",
        "price": "240",
        "days": 2,
        "summary": "A licence from the managed software list, installed for you.",
        "form": [
            choice(
                "product",
                "Product",
                ["Adobe Acrobat Pro", "Microsoft Visio", "Microsoft Project", "Other"],
                required=True,
            ),
            text("other_product", "Which product?", required=True, show_if=when("product", "Other")),
            _field("for_whom", "Licence for", "user", help="Leave empty when it is for you."),
        ],
        "steps": [manager()],
        "tasks": [task(1, "Assign the licence and install", "Service Desk", 4 * HOUR)],
        "team": "Service Desk",
    },
    {
        "name": "Shared mailbox",
        "slug": "shared-mailbox",
        "category": "software",
        "offering": "Shared mailbox",
        "price": "36",
        "days": 2,
        "summary": "A team address (sales@, support@) several people read and answer.",
        "form": [
            text("address", "Address wanted", required=True, placeholder="team-name", max_length=40),
            _field("mailbox_owner", "Owner of the mailbox", "user", required=True),
            choice("send_as", "Members may send as the mailbox", YES_NO, required=True),
        ],
        "steps": [owner()],
        "tasks": [task(1, "Create the mailbox and grant access", "Platform Engineering", 4 * HOUR)],
        "team": "Service Desk",
    },
    {
        "name": "Larger mailbox",
        "slug": "larger-mailbox",
        "category": "software",
        "offering": "Mailbox — 50 GB",
        "price": "0",
        "days": 1,
        "summary": "Your mailbox raised to 50 GB.",
        "form": [number("current_gb", "Current size (GB)", min=0, max=50)],
        "steps": [],
        "tasks": [task(1, "Raise the quota", "Platform Engineering", 2 * HOUR)],
        "team": "Service Desk",
    },
    {
        "name": "Access to the finance share",
        "slug": "finance-share-access",
        "category": "access",
        "offering": "Shared folder",
        "price": "0",
        "days": 1,
        "summary": "Read or change the finance department's shared folders.",
        "form": [
            choice("level", "Access", ["Read", "Read and write"], required=True),
            multi("folders", "Folders", ["Budgets", "Invoices", "Payroll exports", "Audit"], required=True),
            _field("until", "Access until", "date", help="Leave empty for as long as your role needs it."),
            long_text("reason", "Why do you need it?", required=True),
        ],
        "steps": [group("Finance approvers")],
        "tasks": [task(1, "Add to the folder groups", "Platform Engineering", 2 * HOUR)],
        "team": "Service Desk",
        "organizations": ["Globex Finance", "IT Services"],
    },
    {
        "name": "New starter account",
        "slug": "new-starter",
        "category": "access",
        "offering": "Accounts and access",
        "price": "0",
        "days": 5,
        "summary": "Everything a new colleague needs on day one: account, mailbox, laptop.",
        "form": [
            text("first_name", "First name", required=True, max_length=60),
            text("last_name", "Last name", required=True, max_length=60),
            _field("start_date", "Start date", "date", required=True),
            _field("line_manager", "Their manager", "user", required=True),
            multi("equipment", "Equipment", ["Laptop", "Smartphone", "Headset", "Desk phone"]),
            choice("site", "Office", SITES, required=True),
        ],
        "steps": [manager(), owner()],
        "tasks": [
            task(1, "Create the account and mailbox", "Platform Engineering", 4 * HOUR),
            task(2, "Prepare the laptop", "Workplace Support", 2 * DAY),
            task(2, "Add to the teams and distribution lists", "Service Desk", 4 * HOUR),
        ],
        "team": "Service Desk",
    },
    {
        "name": "Access to a business application",
        "slug": "application-access",
        "category": "access",
        "offering": "Application access",
        "price": "0",
        "days": 2,
        "summary": "A role in ERP, CRM, Business Intelligence or another business application.",
        "form": [
            _field("application", "Application", "service", required=True),
            choice("role", "Role", ["Read only", "User", "Key user"], required=True),
            long_text(
                "key_user_reason", "Why key-user rights?", required=True, show_if=when("role", "Key user")
            ),
        ],
        "steps": [manager(), owner()],
        "tasks": [task(1, "Grant the application role", "Platform Engineering", 4 * HOUR)],
        "team": "Service Desk",
    },
    {
        "name": "Local administrator rights",
        "slug": "admin-rights",
        "category": "access",
        "offering": "Accounts and access",
        "price": "0",
        "days": 1,
        "summary": "Install and configure software on your own laptop, for a while.",
        "form": [
            choice("duration", "For how long", ["One day", "One week", "Permanently"], required=True),
            long_text(
                "permanent_reason", "Why permanently?", required=True, show_if=when("duration", "Permanently")
            ),
            long_text("what_for", "What will you install or change?", required=True),
        ],
        "steps": [manager(), group("Security board")],
        "tasks": [task(1, "Grant the rights on the device", "Workplace Support", 2 * HOUR)],
        "team": "Service Desk",
    },
    {
        "name": "VPN token",
        "slug": "vpn-token",
        "category": "network",
        "offering": "Remote access (VPN)",
        "price": "45",
        "days": 3,
        "summary": "Work from home or on the road through the company VPN.",
        "form": [
            choice("token", "Second factor", ["Mobile app", "Hardware token"], required=True),
            choice(
                "phone_os",
                "Your phone",
                ["iOS", "Android"],
                required=True,
                show_if=when("token", "Mobile app"),
            ),
            long_text("address", "Post the token to", required=True, show_if=when("token", "Hardware token")),
        ],
        "steps": [manager()],
        "tasks": [
            task(1, "Create the VPN profile", "Network Operations", 4 * HOUR),
            task(1, "Enrol the second factor", "Service Desk", 4 * HOUR),
        ],
        "team": "Network Operations",
    },
    {
        "name": "Firewall opening",
        "slug": "firewall-opening",
        "category": "network",
        "offering": "Firewall opening",
        "price": "60",
        "days": 3,
        "summary": "Allow traffic between two systems, reviewed by the security board.",
        "form": [
            text("source", "From (host or network)", required=True, placeholder="10.20.0.0/24"),
            text("destination", "To (host or network)", required=True),
            number("port", "Port", required=True, min=1, max=65535, integer=True),
            choice("protocol", "Protocol", ["TCP", "UDP"], required=True),
            _field("until", "Open until", "date"),
        ],
        "steps": [group("Security board")],
        "tasks": [
            task(1, "Review the rule", "Network Operations", 4 * HOUR),
            task(2, "Apply the rule and test", "Network Operations", 4 * HOUR),
        ],
        "team": "Network Operations",
        "roles": STAFF_ROLES,
    },
    {
        "name": "Guest Wi-Fi for an event",
        "slug": "guest-wifi",
        "category": "network",
        "offering": "Guest access",
        "price": "0",
        "days": 1,
        "summary": "Vouchers for visitors to use the guest network.",
        "form": [
            text("event", "Event", required=True),
            _field("event_date", "Date", "date", required=True),
            number("guests", "Guests", required=True, min=1, max=500, integer=True),
        ],
        "steps": [],
        "tasks": [task(1, "Issue the vouchers", "Network Operations", 2 * HOUR)],
        "team": "Network Operations",
    },
    {
        "name": "Follow-me printing",
        "slug": "follow-me-printing",
        "category": "workplace",
        "offering": "Printing — per user",
        "price": "0",
        "days": 1,
        "summary": "Print anywhere and release the job with your badge.",
        "form": [
            choice("site", "Main office", SITES[:3], required=True),
            choice("colour", "Colour printing", YES_NO, required=True),
        ],
        "steps": [],
        "tasks": [task(1, "Enable printing and register the badge", "Service Desk", 2 * HOUR)],
        "team": "Service Desk",
    },
    {
        "name": "Desk move",
        "slug": "desk-move",
        "category": "workplace",
        "offering": "Desk visit",
        "price": "90",
        "days": 3,
        "summary": "We move and reconnect your equipment to another desk.",
        "form": [
            text("from_desk", "From desk", required=True),
            text("to_desk", "To desk", required=True),
            _field("move_date", "Move on", "date", required=True),
            multi(
                "equipment",
                "What moves",
                ["Laptop and dock", "Monitors", "Desk phone", "Printer"],
                required=True,
            ),
        ],
        "steps": [manager()],
        "tasks": [task(1, "Move and reconnect", "Workplace Support", DAY)],
        "team": "Workplace Support",
    },
    {
        "name": "Headset",
        "slug": "headset",
        "category": "workplace",
        "offering": "Desk visit",
        "price": "120",
        "days": 2,
        "summary": "A certified headset for calls and meetings.",
        "form": [
            choice("model", "Model", ["Wired, over-ear", "Wireless, over-ear", "Earbuds"], required=True)
        ],
        "steps": [],
        "tasks": [task(1, "Deliver the headset", "Workplace Support", DAY)],
        "team": "Workplace Support",
    },
    {
        "name": "Virtual server",
        "slug": "virtual-server",
        "category": "servers",
        "offering": "VM — small",
        "price": "660",
        "days": 3,
        "summary": "A Linux or Windows VM with backup, monitored by Platform Engineering.",
        "form": [
            choice(
                "os",
                "Operating system",
                ["Ubuntu 24.04", "Red Hat Enterprise Linux 9", "Windows Server 2022"],
                required=True,
            ),
            choice("environment", "Environment", ENVIRONMENTS, required=True),
            text(
                "backup_window",
                "Backup window",
                required=True,
                placeholder="01:00–03:00",
                show_if=when("environment", "Production"),
            ),
            long_text("purpose", "What will it run?", required=True),
        ],
        "steps": [owner()],
        "tasks": [
            task(1, "Provision the VM", "Platform Engineering", DAY),
            task(2, "Add monitoring and backup", "Platform Engineering", 4 * HOUR),
        ],
        "team": "Platform Engineering",
        "roles": STAFF_ROLES,
    },
    {
        "name": "Large virtual server",
        "slug": "large-virtual-server",
        "category": "servers",
        "offering": "VM — large",
        "price": "2880",
        "days": 5,
        "summary": "8 vCPU and 32 GB RAM for heavier workloads.",
        "form": [
            choice("os", "Operating system", ["Ubuntu 24.04", "Windows Server 2022"], required=True),
            number("disk_gb", "Disk (GB)", required=True, min=100, max=2000, integer=True),
            long_text("purpose", "What will it run?", required=True),
        ],
        "steps": [manager(), owner()],
        "tasks": [
            task(1, "Provision the VM", "Platform Engineering", DAY),
            task(2, "Add monitoring and backup", "Platform Engineering", 4 * HOUR),
        ],
        "team": "Platform Engineering",
        "roles": STAFF_ROLES,
    },
    {
        "name": "Managed PostgreSQL database",
        "slug": "postgresql-database",
        "category": "servers",
        "offering": "PostgreSQL — managed",
        "price": "4800",
        "days": 5,
        "summary": "A primary and a replica with backups and monitoring.",
        "form": [
            text("database", "Database name", required=True, max_length=63),
            number("size_gb", "Expected size (GB)", required=True, min=1, max=4000),
            choice("environment", "Environment", ENVIRONMENTS, required=True),
            choice(
                "ha",
                "Replica in a second zone",
                YES_NO,
                required=True,
                show_if=when("environment", "Production"),
            ),
        ],
        "steps": [owner(), group("Change advisory board")],
        "tasks": [
            task(1, "Create the cluster", "Platform Engineering", DAY),
            task(2, "Set up backups", "Platform Engineering", 4 * HOUR),
            task(2, "Open the firewall to the application", "Network Operations", 4 * HOUR),
        ],
        "team": "Platform Engineering",
        "roles": STAFF_ROLES,
    },
]


# --- loading ------------------------------------------------------------------------------------
def load_catalog(admin: User) -> int:
    """Load the demo catalogue (idempotent); returns how many items were added."""
    people = {user.username: user for user in User.objects.all()}
    if "requester" not in people or not Offering.objects.exists():
        return 0
    _load_managers(admin, people)
    groups = _load_groups(admin, people)
    categories = _load_categories(admin)
    offerings = _load_offerings()
    teams = {team.name: team for team in Team.objects.all()}
    organizations = {org.name: org.pk for org in Organization.objects.all()}
    existing = set(CatalogItem.objects.values_list("slug", flat=True))
    added = 0
    for position, definition in enumerate(ITEMS, start=1):
        if definition["slug"] in existing:
            continue
        item = item_save(
            actor=admin,
            data={
                "name": definition["name"],
                "slug": definition["slug"],
                "category": categories[definition["category"]],
                "offering": offerings[definition["offering"]],
                "summary": definition["summary"],
                "description": definition["summary"],
                "price": Decimal(definition["price"]),
                "delivery_days": definition["days"],
                "form": definition["form"],
                "roles": definition.get("roles", []),
                "organizations": [organizations[name] for name in definition.get("organizations", [])],
                "fulfilment_team": teams[definition["team"]],
                "position": position,
            },
        )
        steps = [
            {**step, "position": number, "group": groups[step["group"]].pk if "group" in step else None}
            for number, step in enumerate(definition["steps"], start=1)
        ]
        if steps:
            approval_steps_save(actor=admin, item=item, steps=steps)
        approval_task_plan = [{**entry, "team": teams[entry["team"]].pk} for entry in definition["tasks"]]
        task_plan_save(actor=admin, item=item, tasks=approval_task_plan)
        added += 1
    if added and not CatalogRequest.objects.exists():
        _load_orders(people)
    return added


def _load_managers(admin: User, people: dict[str, User]) -> None:
    for username, manager_name in MANAGERS.items():
        person, boss = people.get(username), people.get(manager_name)
        if person is not None and boss is not None and person.manager_id is None:
            user_update(actor=admin, user=person, data={"manager": boss})


def _load_groups(admin: User, people: dict[str, User]) -> dict[str, ApprovalGroup]:
    groups = {group.name: group for group in ApprovalGroup.objects.all()}
    for name, description, members in GROUPS:
        if name not in groups:
            groups[name] = approval_group_save(
                actor=admin,
                data={"name": name, "description": description, "members": [people[m].pk for m in members]},
            )
    return groups


def _load_categories(admin: User) -> dict[str, CatalogCategory]:
    categories = {category.slug: category for category in CatalogCategory.objects.all()}
    for position, (name, slug, description) in enumerate(CATEGORIES, start=1):
        if slug not in categories:
            categories[slug] = category_save(
                actor=admin,
                data={"name": name, "slug": slug, "description": description, "position": position},
            )
    return categories


def _load_offerings() -> dict[str, Offering]:
    offerings = {offering.name: offering for offering in Offering.objects.all()}
    services = {service.name: service for service in Service.objects.all()}
    for service, name, included, cost, price in EXTRA_OFFERINGS:
        if name not in offerings and service in services:
            offerings[name] = Offering.objects.create(
                service=services[service],
                name=name,
                included=included,
                cost=Decimal(cost),
                price=Decimal(price),
                period="one_off",
            )
    return offerings


# --- orders, through the services ---------------------------------------------------------------
def _task(request: CatalogRequest, name: str):
    return request.tasks.get(name=name)


def _pending(request: CatalogRequest, approver: User):
    return request.approvals.get(approver=approver, state=ApprovalState.PENDING)


def _decide(request: CatalogRequest, approver: User, decision: str, *, at, comment: str = "") -> None:
    approval_decide(
        actor=approver, approval=_pending(request, approver), decision=decision, comment=comment, now=at
    )


def _order(slug: str, actor: User, answers: dict[str, Any], *, at, requested_for: User | None = None):
    return request_order(
        actor=actor,
        item=CatalogItem.objects.get(slug=slug),
        answers=answers,
        requested_for=requested_for,
        now=at,
    )


def _load_orders(people: dict[str, User]) -> None:
    """Orders in every state: awaiting approval (one step half-approved), in fulfilment,
    fulfilled (on time and late), rejected; one placed by an agent on a requester's behalf."""
    now = timezone.now()

    def ago(**delta: float):
        return now - timedelta(**delta)

    riley, chen, garcia, bob = (people[name] for name in ("requester", "chen", "garcia", "bob"))
    agent, lead, noc, platform, boss = (
        people[name] for name in ("agent", "lead", "noc", "platform", "manager")
    )
    in_a_month = (now + timedelta(days=30)).date().isoformat()

    # Awaiting approval: Riley's performance laptop waits for Wei Chen, her manager.
    _order(
        "new-laptop",
        riley,
        {
            "model": "Performance 16-inch",
            "reason": "Month-end consolidation models in Excel need 32 GB of memory.",
            "keyboard": "UK",
            "accessories": ["Headset", "Second monitor"],
            "needed_by": in_a_month,
        },
        at=ago(hours=3),
    )
    # Awaiting approval, 1 of 2: the finance share needs two of the three finance approvers.
    share = _order(
        "finance-share-access",
        chen,
        {"level": "Read", "folders": ["Budgets", "Invoices"], "reason": "Quarterly budget review."},
        at=ago(hours=5),
    )
    _decide(share, lead, Decision.APPROVE, at=ago(hours=2), comment="Fine for the review.")

    # In fulfilment: the VPN token approved, one of its two parallel tasks done.
    vpn = _order("vpn-token", riley, {"token": "Mobile app", "phone_os": "iOS"}, at=ago(days=2, hours=4))
    _decide(vpn, chen, Decision.APPROVE, at=ago(days=2))
    vpn.refresh_from_db()
    task_complete(actor=noc, task=_task(vpn, "Create the VPN profile"), note="Profile vpn-rreed created.")
    task_start(actor=agent, task=_task(vpn, "Enrol the second factor"))

    # In fulfilment after two approval levels: the manager, then two of the security board.
    rights = _order(
        "admin-rights",
        noc,
        {"duration": "One week", "what_for": "Packet capture drivers for a Wi-Fi survey."},
        at=ago(days=1, hours=6),
    )
    _decide(rights, lead, Decision.APPROVE, at=ago(days=1, hours=5))
    _decide(rights, platform, Decision.APPROVE, at=ago(days=1, hours=1), comment="One week only.")
    _decide(rights, boss, Decision.APPROVE, at=ago(hours=20))

    # Fulfilled on time: Lucía's smartphone, both parallel tasks done.
    phone = _order(
        "smartphone",
        garcia,
        {"model": "iPhone 15", "port_number": "No", "sim": "eSIM"},
        at=ago(days=2),
    )
    _decide(phone, boss, Decision.APPROVE, at=ago(days=1, hours=22))
    task_complete(actor=agent, task=_task(phone, "Enrol the phone in device management"))
    task_complete(
        actor=lead, task=_task(phone, "Order the SIM or port the number"), note="eSIM profile sent."
    )

    # Fulfilled late: a production VM, approved by the service owner, two stages of tasks.
    vm = _order(
        "virtual-server",
        platform,
        {
            "os": "Ubuntu 24.04",
            "environment": "Production",
            "backup_window": "01:00–03:00",
            "purpose": "Grafana for the network team.",
        },
        at=ago(days=9),
    )
    service_owner = vm.item.offering.service.owner
    _decide(vm, service_owner, Decision.APPROVE, at=ago(days=8, hours=20))
    task_complete(actor=platform, task=_task(vm, "Provision the VM"))
    task_complete(actor=platform, task=_task(vm, "Add monitoring and backup"))

    # Ordered by an agent on Riley's behalf, no approval needed, delivered.
    dock = _order(
        "monitor-and-dock",
        agent,
        {"monitors": 2, "site": "London Office", "desk": "3.14"},
        at=ago(days=1),
        requested_for=riley,
    )
    task_complete(actor=agent, task=_task(dock, "Deliver and connect at the desk"))

    # In fulfilment without approval: Bob's printing waits in the Service Desk queue.
    _order("follow-me-printing", bob, {"site": "New York Office", "colour": "No"}, at=ago(hours=1))

    # Rejected: Lucía's desk move, with the manager's reason.
    move = _order(
        "desk-move",
        garcia,
        {
            "from_desk": "NY 12.04",
            "to_desk": "NY 14.22",
            "move_date": in_a_month,
            "equipment": ["Laptop and dock", "Monitors"],
        },
        at=ago(days=3),
    )
    _decide(
        move,
        boss,
        Decision.REJECT,
        at=ago(days=2, hours=20),
        comment="Floor 14 is being refitted until next quarter; ask again then.",
    )
