"""Demo people and organisation: sites, organisations, support teams, skills, shifts and the
demo logins."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from opsdesk.accounts.choices import AbsenceKind, OrganizationKind, Role, SkillLevel, Tier, Weekday
from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, Skill, Team, User
from opsdesk.accounts.services import team_member_add, user_create

LOCATIONS = [
    ("Berlin HQ", "Friedrichstraße 68, 10117 Berlin", "Berlin", "DE", "Europe/Berlin"),
    ("London Office", "1 Poultry, London EC2R 8EJ", "London", "GB", "Europe/London"),
    ("New York Office", "200 Park Avenue, New York, NY 10166", "New York", "US", "America/New_York"),
    ("Frankfurt Data Centre", "Hanauer Landstraße 302, 60314 Frankfurt", "Frankfurt", "DE", "Europe/Berlin"),
    ("Singapore Office", "8 Marina View, Singapore 018960", "Singapore", "SG", "Asia/Singapore"),
]
# (name, kind, parent, e-mail domain, requesters see each other's records, VIP)
ORGANIZATIONS = [
    ("Globex Corporation", OrganizationKind.CUSTOMER, None, "globex.example", False, False),
    (
        "Globex Finance",
        OrganizationKind.DEPARTMENT,
        "Globex Corporation",
        "finance.globex.example",
        True,
        True,
    ),
    ("Globex Sales", OrganizationKind.DEPARTMENT, "Globex Corporation", "sales.globex.example", False, False),
    ("Initech", OrganizationKind.CUSTOMER, None, "initech.example", True, False),
    ("IT Services", OrganizationKind.INTERNAL_IT, None, "it.example", False, False),
]
TEAMS = [
    (
        "Service Desk",
        Tier.L1,
        "servicedesk@example.com",
        "First contact for every call: triage, quick fixes.",
    ),
    (
        "Workplace Support",
        Tier.L2,
        "workplace@example.com",
        "Laptops, printers, mobile devices, on-site help.",
    ),
    ("Network Operations", Tier.L2, "noc@example.com", "LAN, Wi-Fi, VPN, firewalls."),
    ("Platform Engineering", Tier.L3, "platform@example.com", "Servers, identity, databases, cloud."),
]
SKILLS = [
    ("Windows 11", "Workplace"),
    ("macOS", "Workplace"),
    ("Microsoft 365", "Collaboration"),
    ("Printers", "Workplace"),
    ("Cisco networking", "Network"),
    ("VPN", "Network"),
    ("Active Directory", "Identity"),
    ("PostgreSQL", "Platform"),
    ("Linux", "Platform"),
    ("German", "Language"),
]
# (username, password, first, last, role, organisation, location, teams, skills with levels)
PEOPLE = [
    ("admin", "opsdesk-admin", "Ada", "Admin", Role.ADMIN, "IT Services", "Berlin HQ", [], []),
    ("manager", "opsdesk-manager", "Morgan", "Meyer", Role.MANAGER, "IT Services", "Berlin HQ", [], []),
    ("auditor", "opsdesk-auditor", "Aubrey", "Auer", Role.AUDITOR, "IT Services", "London Office", [], []),
    (
        "lead",
        "opsdesk-lead",
        "Lena",
        "Lindqvist",
        Role.TEAM_LEAD,
        "IT Services",
        "Berlin HQ",
        ["Service Desk"],
        [("Microsoft 365", 5), ("Windows 11", 4), ("German", 5)],
    ),
    (
        "agent",
        "opsdesk-agent",
        "Sam",
        "Schmidt",
        Role.AGENT,
        "IT Services",
        "Berlin HQ",
        ["Service Desk", "Workplace Support"],
        [("Windows 11", 4), ("Printers", 3), ("German", 5)],
    ),
    (
        "noc",
        "opsdesk-noc",
        "Nia",
        "Okafor",
        Role.AGENT,
        "IT Services",
        "London Office",
        ["Network Operations"],
        [("Cisco networking", 5), ("VPN", 4)],
    ),
    (
        "platform",
        "opsdesk-platform",
        "Pavel",
        "Novák",
        Role.AGENT,
        "IT Services",
        "Frankfurt Data Centre",
        ["Platform Engineering"],
        [("Linux", 5), ("PostgreSQL", 4), ("Active Directory", 3)],
    ),
    (
        "owner",
        "opsdesk-owner",
        "Olivia",
        "Ortiz",
        Role.SERVICE_OWNER,
        "IT Services",
        "New York Office",
        [],
        [],
    ),
    (
        "requester",
        "opsdesk-requester",
        "Riley",
        "Reed",
        Role.REQUESTER,
        "Globex Finance",
        "London Office",
        [],
        [],
    ),
    ("chen", "opsdesk-requester", "Wei", "Chen", Role.REQUESTER, "Globex Finance", "London Office", [], []),
    (
        "garcia",
        "opsdesk-requester",
        "Lucía",
        "García",
        Role.REQUESTER,
        "Globex Sales",
        "New York Office",
        [],
        [],
    ),
    ("bob", "opsdesk-requester", "Bob", "Porter", Role.REQUESTER, "Initech", "New York Office", [], []),
]
TEAM_LEADS = {"Service Desk": "lead"}
WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]


def print_logins(write) -> None:
    for username, password, first, last, role, org, *_ in PEOPLE:
        write(f"  {username:<10} {password:<18} {Role(role).label} — {first} {last}, {org}")


def load_admin() -> User:
    username, password, first, last, *_ = PEOPLE[0]
    admin = User.objects.filter(username=username).first()
    if admin is None:
        admin = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            role=Role.ADMIN,
            is_staff=True,
            is_superuser=True,
        )
        admin.set_password(password)
        admin.save()
    _reset_password(admin, password)
    return admin


def load_people(admin: User) -> None:
    locations = {}
    for name, address, city, country, tz in LOCATIONS:
        locations[name], _ = Location.objects.get_or_create(
            name=name, defaults={"address": address, "city": city, "country": country, "time_zone": tz}
        )
    organizations: dict[str, Organization] = {}
    for name, kind, parent, domain, shared, vip in ORGANIZATIONS:
        organizations[name], _ = Organization.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "parent": organizations.get(parent),
                "email_domain": domain,
                "requesters_see_organization": shared,
                "is_vip": vip,
            },
        )
    teams = {}
    for name, tier, email, description in TEAMS:
        teams[name], _ = Team.objects.get_or_create(
            name=name, defaults={"tier": tier, "email": email, "description": description}
        )
    skills = {}
    for name, category in SKILLS:
        skills[name], _ = Skill.objects.get_or_create(name=name, defaults={"category": category})
    if admin.organization_id is None:
        admin.organization, admin.location = organizations["IT Services"], locations["Berlin HQ"]
        admin.save()

    for username, password, first, last, role, org, site, team_names, skill_levels in PEOPLE[1:]:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                actor=admin,
                username=username,
                password=password,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                role=role,
                organization=organizations[org],
                location=locations[site],
                time_zone=locations[site].time_zone,
            )
        else:
            _reset_password(user, password)
        for team_name in team_names:
            if not teams[team_name].memberships.filter(user=user).exists():
                team_member_add(actor=admin, team=teams[team_name], user=user)
        for skill_name, level in skill_levels:
            AgentSkill.objects.get_or_create(
                user=user, skill=skills[skill_name], defaults={"level": SkillLevel(level)}
            )
        if user.is_agent and role != Role.AUDITOR and not user.shifts.exists():
            for weekday in WEEKDAYS:
                Shift.objects.create(user=user, weekday=weekday, starts=time(8), ends=time(17))

    for team_name, username in TEAM_LEADS.items():
        team = teams[team_name]
        if team.lead_id is None:
            team.lead = User.objects.get(username=username)
            team.save()
    noc = User.objects.get(username="noc")
    if not noc.absences.exists():
        start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=7)
        Absence.objects.create(
            user=noc,
            kind=AbsenceKind.HOLIDAY,
            starts_at=start,
            ends_at=start + timedelta(days=5),
            note="Summer holiday",
        )


def _reset_password(user: User, password: str) -> None:
    # The logins printed at the end must work, even if someone changed a demo password.
    if not user.check_password(password) or not user.is_active:
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
