"""Demo service desk: a two-level category tree and a few thousand tickets over the past six
months, with the volumes, mix and durations of real desks.

The shapes below come from public data sets, computed once and written here as constants; the
demo never reads those files (they are not part of the project) and copies none of their rows:

- UCI "Incident management process enriched event log" (Amaral, Fantinato, Peres, CC BY 4.0,
  doi:10.24432/C57S4H), development split, 16,612 incidents, last snapshot of each;
- "Helpdesk" event log of an Italian software company (Verenich 2016, CC BY 4.0,
  doi:10.17632/39bp3vv62t.1), development split, 3,053 cases;
- Endava / Microsoft support-ticket classification subset (``karolzak/support-tickets-classification``,
  MIT), development split, 4,345 tickets: the type and category label codes only.

Historical tickets are written with ``bulk_create`` (fast); the last ``SERVICE_DAYS`` days go
through the real services (numbering, the priority matrix, the state machine, the timeline),
and their timestamps are then moved to when the steps happened. Both paths replay the same plan.
"""

from __future__ import annotations

import bisect
import random
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db.models import Max
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Organization, Team, TeamMembership, User
from opsdesk.core.richtext import render_markdown
from opsdesk.portfolio.models import Service
from opsdesk.tickets import services
from opsdesk.tickets.choices import (
    DEFAULT_PRIORITY_MATRIX,
    LOW_RATING,
    NUMBER_PREFIX,
    NUMBER_START,
    Channel,
    EventKind,
    PendingReason,
    ProblemStatus,
    ResolutionCode,
    Status,
    TicketType,
)
from opsdesk.tickets.models import Category, NumberSequence, Problem, Survey, Ticket, TimelineEvent
from opsdesk.tickets.services.escalation import escalation_rule_save
from opsdesk.tickets.services.routing import routing_rule_save

SEED = 20240601
DEFAULT_TICKETS = 4_000
HISTORY_DAYS = 182
SERVICE_DAYS = 7  # tickets raised in the last week go through the services, one call per step
DESK_TIME_ZONE = ZoneInfo("Europe/Berlin")
BATCH = 1_000

# --- shapes from the public data sets -------------------------------------------------------------
# Arrivals by weekday, Monday first: share of UCI incidents by the weekday of opened_at.
WEEKDAY_SHARE = (0.2357, 0.1984, 0.2082, 0.1719, 0.1435, 0.0227, 0.0196)
# Arrivals by hour of the day (desk local time): share of UCI incidents by the hour of opened_at.
HOUR_SHARE = (
    0.0098, 0.0084, 0.0061, 0.0050, 0.0045, 0.0040, 0.0133, 0.0248, 0.0978, 0.1255, 0.1180, 0.1000,
    0.0524, 0.0700, 0.0940, 0.0879, 0.0760, 0.0448, 0.0185, 0.0098, 0.0084, 0.0084, 0.0062, 0.0060,
)  # fmt: skip
# Incidents, (impact, urgency) → share: UCI's joint distribution of impact and urgency
# (1 high … 3 low), which the priority matrix turns into P1–P5 (94 % medium × medium → P3).
INCIDENT_IMPACT_URGENCY = {
    (1, 1): 0.0104, (1, 2): 0.0056, (2, 1): 0.0114, (2, 2): 0.9408, (2, 3): 0.0014,
    (3, 1): 0.0002, (3, 2): 0.0039, (3, 3): 0.0263,
}  # fmt: skip
# Requests: in the Endava subset every ticket_type-1 row (89.4 %, read as service requests)
# carries the lowest urgency and impact. The demo keeps 10 % above the bottom cell so the
# matrix has something to show.
REQUEST_IMPACT_URGENCY = {(3, 3): 0.90, (3, 2): 0.06, (2, 3): 0.03, (2, 2): 0.01}
# Share of service requests. Endava's desk: 89.4 % (ticket_type 1); the UCI log holds incidents
# only. The demo takes 60 %, between the two, so both queues have volume.
REQUEST_SHARE = 0.60
# Hours from opening to resolution, as quantiles (fraction, hours), sampled by interpolating
# log-linearly between them and capped at the 99th percentile.
# Incidents: UCI opened_at → resolved_at over the 15,424 incidents that have both.
INCIDENT_HOURS = ((0.0, 0.02), (0.05, 0.07), (0.10, 0.13), (0.25, 0.75), (0.50, 29.03),
                  (0.75, 174.53), (0.90, 412.85), (0.99, 2975.1))  # fmt: skip
# Requests: the Helpdesk log, first event → first "Resolve ticket".
REQUEST_HOURS = ((0.0, 0.02), (0.05, 0.05), (0.10, 0.39), (0.25, 5.35), (0.50, 91.09),
                 (0.75, 333.81), (0.90, 619.18), (0.99, 1007.35))  # fmt: skip
# Hours to the first response: the Helpdesk log, first event → "Take in charge ticket".
FIRST_RESPONSE_HOURS = ((0.0, 0.003), (0.25, 0.01), (0.50, 3.95), (0.75, 89.37), (0.90, 270.1),
                        (0.99, 785.41))  # fmt: skip
# Days from resolution to closure: UCI resolved_at → closed_at, median 5.03 (an automatic close).
CLOSE_AFTER_DAYS = 5
# UCI: 49.0 % of incidents were reassigned at least once; here, handed from the service desk
# to the specialist team of their category (when that is not the service desk itself).
HANDED_ON_SHARE = 0.49
# UCI: 24.8 % of incidents went through "Awaiting User Info", 0.9 % "Awaiting Vendor".
PENDING_REQUESTER_SHARE = 0.248
PENDING_VENDOR_SHARE = 0.009
# UCI: 1.57 % of incidents carry a problem_id.
PROBLEM_LINK_SHARE = 0.0157
# UCI closed_code is pseudonymised ("code 6"); its shares in rank order (60 %, 18 %, 9 %, …)
# are given to our codes in order of how common they are on a desk.
INCIDENT_RESOLUTIONS = {
    ResolutionCode.SOLVED: 0.60,
    ResolutionCode.WORKAROUND: 0.18,
    ResolutionCode.NOT_REPRODUCIBLE: 0.09,
    ResolutionCode.DUPLICATE: 0.03,
    ResolutionCode.NO_RESPONSE: 0.10,
}
# Not in the data sets; assumptions of the demo.
REQUEST_RESOLUTIONS = {ResolutionCode.FULFILLED: 0.93, ResolutionCode.REJECTED: 0.07}
CANCELLED_SHARE = 0.02
INTERNAL_NOTE_SHARE = 0.30
WORKLOG_SHARE = 0.40
SURVEY_ANSWERED_SHARE = 0.30
RATINGS = {5: 0.55, 4: 0.25, 3: 0.10, 2: 0.05, 1: 0.05}
# Channels: UCI's contact_type is 99.8 % phone (a phone-first desk in 2016), so not used here.
CHANNELS = {
    TicketType.INCIDENT: {Channel.PORTAL: 0.40, Channel.EMAIL: 0.25, Channel.PHONE: 0.25, Channel.CHAT: 0.10},
    TicketType.REQUEST: {Channel.PORTAL: 0.62, Channel.EMAIL: 0.25, Channel.PHONE: 0.06, Channel.CHAT: 0.07},
}
# Top-level categories by type: Endava's `category` codes 4, 5, 6, 7 and 11 (99.6 % of rows),
# counted per ticket_type; the names are ours, read off the titles under each code.
TOP_SHARES = {
    TicketType.INCIDENT: {"access": 357, "hardware": 67, "network": 19, "building": 0, "people": 10},
    TicketType.REQUEST: {"access": 2640, "hardware": 908, "network": 214, "building": 94, "people": 18},
}

# --- the category tree ----------------------------------------------------------------------------
# key: (name, description, [(subcategory, weight, service, team, incident titles, request titles)]).
# The weights are Endava's sub_category1 counts under each code, in rank order.
TREE: dict[str, tuple[str, str, list[tuple[str, int, str, str, list[str], list[str]]]]] = {
    "access": (
        "Accounts, e-mail & applications",
        "Sign-in, permissions, mail and the business applications.",
        [
            (
                "E-mail & calendar",
                1249,
                "E-mail & Calendar",
                "Service Desk",
                [
                    "Outlook keeps asking for my password",
                    "Mails to a customer bounce as undeliverable",
                    "Shared calendar does not update",
                    "Cannot open attachments in Outlook",
                    "Mailbox full warning although I archived",
                ],
                [
                    "New distribution list for the {team} team",
                    "Access to the shared mailbox {mailbox}",
                    "Please add me to the {mailbox} list",
                    "Forward a leaver's mailbox to their manager",
                ],
            ),
            (
                "Access & permissions",
                732,
                "Identity & Access",
                "Platform Engineering",
                [
                    "Access denied to the {share} folder since this morning",
                    "My account is locked again",
                    "Lost my permissions after moving teams",
                ],
                [
                    "Access to the {share} share",
                    "Read access to {app} for a new colleague",
                    "Remove access for a leaver",
                    "Admin rights on my laptop for a training",
                ],
            ),
            (
                "Passwords & sign-in",
                643,
                "Identity & Access",
                "Service Desk",
                [
                    "Multi-factor prompt never arrives on my phone",
                    "Cannot sign in after the password change",
                ],
                ["Password reset for an external account", "Reset my multi-factor device (new phone)"],
            ),
            (
                "ERP",
                238,
                "ERP",
                "Platform Engineering",
                ["ERP times out when posting invoices", "Purchase order approval stuck in the ERP"],
                ["Change the project manager role in the ERP", "Amend the direct-reports list in the ERP"],
            ),
            (
                "Collaboration tools",
                81,
                "Teams & Collaboration",
                "Service Desk",
                ["Teams calls drop after a few minutes", "Screen sharing shows a black screen"],
                ["New Teams channel for {project}", "Guest access to Teams for a supplier"],
            ),
            (
                "HR portal",
                36,
                "HR Portal",
                "Service Desk",
                ["Annual leave request fails in the HR portal"],
                ["Update my bank details in the HR portal"],
            ),
        ],
    ),
    "hardware": (
        "Hardware & purchasing",
        "Laptops, phones, printers, licences and orders.",
        [
            (
                "Orders",
                676,
                "End-User Devices",
                "Workplace Support",
                [],
                [
                    "New purchase order for a monitor",
                    "Docking station for a new starter",
                    "Order a headset",
                    "Quote for a replacement laptop",
                ],
            ),
            (
                "Laptops & desktops",
                174,
                "End-User Devices",
                "Workplace Support",
                [
                    "Laptop does not boot after the update",
                    "Laptop battery drains within an hour",
                    "Blue screen when docking",
                    "Laptop very slow since Monday",
                ],
                ["New laptop for a starter on the {day}", "Replace a broken keyboard"],
            ),
            (
                "Printers & scanners",
                30,
                "Printing",
                "Workplace Support",
                [
                    "Printer on floor {floor} says the duplex unit is not set",
                    "Scan to e-mail stopped working",
                ],
                ["Add the new printer on floor {floor}"],
            ),
            (
                "Software licences",
                24,
                "End-User Devices",
                "Workplace Support",
                ["Licence expired warning in {app}"],
                ["Visual Studio licence", "Adobe Acrobat Pro licence"],
            ),
            (
                "Mobile phones",
                18,
                "Mobile Devices",
                "Workplace Support",
                ["Company phone no longer syncs mail"],
                ["New company phone", "Wipe and re-enrol a phone"],
            ),
            (
                "Peripherals",
                16,
                "End-User Devices",
                "Workplace Support",
                ["Second monitor not detected"],
                ["Wireless keyboard and mouse"],
            ),
        ],
    ),
    "network": (
        "Network & servers",
        "Connectivity, firewalls, servers and backups.",
        [
            (
                "Firewall & ports",
                153,
                "Firewall & Security Gateway",
                "Network Operations",
                ["Connection to the partner SFTP is blocked"],
                [
                    "Open port {port} from test to the partner gateway",
                    "Firewall rule for the new monitoring server",
                ],
            ),
            (
                "VPN & remote access",
                39,
                "Network",
                "Network Operations",
                ["VPN disconnects every few minutes", "Cannot reach internal sites over the VPN"],
                ["VPN access for a contractor"],
            ),
            (
                "Servers",
                14,
                "Virtual Servers",
                "Platform Engineering",
                ["Disk almost full on {server}", "Service on {server} does not respond"],
                ["New test server for {project}", "Install updates on the test stage servers"],
            ),
            (
                "Wi-Fi",
                10,
                "Wi-Fi",
                "Network Operations",
                ["Wi-Fi drops in meeting room {room}", "Guest Wi-Fi password not accepted"],
                ["Guest Wi-Fi for a workshop"],
            ),
            (
                "Backup & restore",
                8,
                "Backup & Restore",
                "Platform Engineering",
                ["Nightly backup of {server} failed"],
                ["Restore a deleted folder from last week"],
            ),
        ],
    ),
    "building": (
        "Building access",
        "Access cards and secured areas.",
        [
            (
                "Access cards",
                94,
                "On-site Support",
                "Service Desk",
                ["Access card does not open the floor {floor} door"],
                [
                    "New access card",
                    "Access card for floor {floor}",
                    "Reactivate a found access card",
                    "Remove badge access for a leaver",
                ],
            )
        ],
    ),
    "people": (
        "Joiners & leavers",
        "Accounts and equipment when people join, leave or return.",
        [
            (
                "Leavers",
                17,
                "HR Portal",
                "Service Desk",
                ["Leaver still receives company mail"],
                ["Leaver: disable accounts and collect equipment"],
            ),
            (
                "Joiners & returners",
                10,
                "HR Portal",
                "Service Desk",
                [],
                [
                    "Back from parental leave: reactivate my accounts",
                    "New starter on the {day}: accounts and laptop",
                ],
            ),
        ],
    ),
}
FILL = {
    "team": ["Finance", "Sales", "Controlling", "Marketing", "Procurement"],
    "mailbox": ["invoices@", "sales-emea@", "payroll@", "helpdesk-de@"],
    "share": ["Finance\\Reporting", "Sales\\Contracts", "HR\\Shared", "Projects\\2025"],
    "app": ["Power BI", "the CRM", "Acrobat", "the ERP"],
    "project": ["Project Atlas", "the Q3 audit", "the Nordic rollout", "Project Kestrel"],
    "day": ["1st", "3rd", "15th", "20th"],
    "floor": ["2", "3", "4", "5"],
    "port": ["443", "22", "8443", "5432"],
    "server": ["fra-app-07", "fra-db-02", "lon-file-01", "fra-web-11"],
    "room": ["Ada", "Turing", "Hopper", "Lovelace"],
}
OPENINGS = ["Hello,", "Hi team,", "Good morning,", "Hi,", "Dear service desk,"]
DETAILS = {
    TicketType.INCIDENT: [
        "It started this morning and happens every time I try.",
        "Colleagues next to me have the same problem.",
        "I restarted the laptop twice; it did not help.",
        "It worked yesterday afternoon. Nothing was installed since, as far as I know.",
        "The error says *something went wrong, try again later*.",
        "This blocks the month-end reporting, so it is fairly urgent.",
    ],
    TicketType.REQUEST: [
        "My manager has approved this.",
        "Needed by the end of next week, if possible.",
        "Cost centre 4711, approved by my manager.",
        "This is for the new colleague starting soon.",
        "Same set-up as the rest of the team, please.",
    ],
}
CLOSINGS = ["Thanks!", "Thank you in advance.", "Best regards", "Many thanks", "Cheers"]
AGENT_REPLIES = [
    "Thanks for reporting this. I am looking into it now and will update you shortly.",
    "Thank you. Could you tell me when it happened last, and send a screenshot of the message?",
    "I have picked this up. It needs a few checks on our side; I will come back to you today.",
    "Thanks, noted. I have asked the specialist team to have a look.",
    "Hello, we have received your request and are working on it.",
]
REQUESTER_ANSWERS = [
    "Here is the screenshot. It happened again at 10:15.",
    "Yes, my manager approved it by mail this morning.",
    "It is the laptop with the asset tag on the bottom, ending in 3342.",
    "I am in the office tomorrow from 9, any time is fine.",
    "Thanks, that is all the information I have.",
]
PENDING_NOTES = {
    PendingReason.REQUESTER: "Waiting for the details asked for above.",
    PendingReason.VENDOR: "Case opened with the vendor; waiting for their answer.",
}
INTERNAL_NOTES = [
    "Checked the logs: nothing obvious on the server side.",
    "Same symptom as last month's ticket; the cached credentials were the cause then.",
    "Spoke to the requester by phone; they will try again after lunch.",
    "Known issue with the last client update, see the release notes.",
    "Needs an admin account, handing over if I cannot fix it remotely.",
]
RESOLUTION_NOTES = {
    ResolutionCode.SOLVED: "Fixed: the settings were reset and the requester confirmed it works.",
    ResolutionCode.WORKAROUND: "Workaround in place (use the web version) until the fix is released.",
    ResolutionCode.NOT_REPRODUCIBLE: "Could not reproduce; it works for the requester again.",
    ResolutionCode.DUPLICATE: "Already reported; handled in the other ticket.",
    ResolutionCode.NO_RESPONSE: "No answer to our questions; resolving. Reply to reopen.",
    ResolutionCode.FULFILLED: "Done, as requested.",
    ResolutionCode.REJECTED: "Not approved by the budget owner; please ask your manager.",
}
SURVEY_COMMENTS = {
    5: ["Quick and friendly, thank you!", "Perfect.", ""],
    4: ["Good, took a little while.", ""],
    3: ["OK in the end.", ""],
    2: ["Took far too long.", "I had to ask three times."],
    1: ["Still not working properly.", "Nobody answered for days."],
}
# Generated requesters: (first names, last names, organisation → share of the people).
FIRST_NAMES = [
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Leon", "Maya", "Nils", "Olga", "Paul", "Rosa", "Simon", "Tara", "Umar", "Vera", "Yusuf",
    "Zoe", "Omar", "Priya", "Lars", "Mina", "Theo", "Amara", "Karl",
]  # fmt: skip
LAST_NAMES = [
    "Becker", "Clarke", "Dubois", "Evans", "Fischer", "Garcia", "Hoffmann", "Ivanova", "Jensen",
    "Kowalski", "Lopez", "Moreau", "Nakamura", "Olsen", "Patel", "Quinn", "Rossi", "Schulz",
    "Tanaka", "Usman", "Vogel", "Weber", "Young", "Ziegler", "Brown", "Novak", "Singh", "Meyer",
]  # fmt: skip
REQUESTER_ORGANIZATIONS = {
    "Globex Corporation": 0.3,
    "Globex Finance": 0.15,
    "Globex Sales": 0.25,
    "Initech": 0.3,
}
GENERATED_REQUESTERS = 150
# The demo logins' own requesters raise about this share of the tickets each.
DEMO_REQUESTER_SHARE = 0.004
DEMO_REQUESTERS = ("requester", "chen", "garcia", "bob")
# Major incidents: (title, service, team, child titles, hours after its start it was resolved).
MAJOR_INCIDENTS = [
    (
        "E-mail delivery delayed for all users",
        "E-mail & Calendar",
        "Platform Engineering",
        ["No new mail since 9:00", "Outlook says 'disconnected'", "Mails to customers stuck in the outbox"],
        5.0,
    ),
    (
        "VPN gateway in London down",
        "Network",
        "Network Operations",
        ["VPN does not connect", "Cannot work from home: VPN error 809", "Remote access down"],
        3.5,
    ),
    (
        "ERP unavailable after the weekend update",
        "ERP",
        "Platform Engineering",
        ["ERP login page shows an error", "Cannot post invoices", "ERP hangs on start"],
        7.0,
    ),
    (
        "Wi-Fi outage on the 3rd floor in Berlin",
        "Wi-Fi",
        "Network Operations",
        ["No Wi-Fi in room Hopper", "Wi-Fi gone on the third floor", "Laptop cannot find the network"],
        None,  # still open: the current major incident
    ),
]
PROBLEMS = [
    (
        "Intermittent VPN drops on the London gateway",
        "VPN & remote access",
        "Network Operations",
        "Keep-alive timeout on the gateway shorter than the client's.",
        "Reconnect; or use the Frankfurt gateway profile.",
    ),
    ("ERP posting timeouts at month end", "ERP", "Platform Engineering", "", ""),
]


# --- plans: one ticket's story, replayed in bulk or through the services --------------------------
@dataclass
class Step:
    at: datetime
    kind: str  # assign, reply, answer, note, worklog, move, survey, parent, problem
    actor: User | None
    body: str = ""
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    created: datetime
    type: str
    title: str
    description: str
    requester: User
    creator: User
    channel: str
    category: Category | None
    service: Service | None
    impact: int
    urgency: int
    steps: list[Step] = field(default_factory=list)
    is_major: bool = False
    parent: Plan | None = None
    number: str = ""
    ticket: Ticket | None = None


@dataclass
class Desk:
    """What the plans draw on, loaded once."""

    rng: random.Random
    now: datetime
    admin: User
    teams: dict[str, Team]
    members: dict[str, list[User]]
    services: dict[str, Service]
    categories: dict[tuple[str, str], Category]
    requesters: list[User]
    requester_weights: list[float]
    problems: dict[str, Problem]
    matrix: dict[tuple[int, int], int]


def _pick(rng: random.Random, shares: dict) -> Any:
    keys = list(shares)
    return rng.choices(keys, weights=[shares[key] for key in keys])[0]


def _hours(rng: random.Random, quantiles: tuple[tuple[float, float], ...]) -> float:
    """A draw from the distribution given by its quantiles, log-linear between them."""
    u = rng.random() * quantiles[-1][0]
    fractions = [fraction for fraction, _ in quantiles]
    i = max(1, bisect.bisect_right(fractions, u))
    (f0, h0), (f1, h1) = quantiles[i - 1], quantiles[i]
    return h0 * (h1 / h0) ** ((u - f0) / (f1 - f0))


def _fill(rng: random.Random, text: str) -> str:
    for key, values in FILL.items():
        token = "{" + key + "}"
        if token in text:
            text = text.replace(token, rng.choice(values))
    return text


def _arrivals(rng: random.Random, count: int, now: datetime, days: int) -> list[datetime]:
    """``count`` creation times over the past ``days``, shaped by weekday and hour of day."""
    today = now.astimezone(DESK_TIME_ZONE).date()
    dates = [today - timedelta(days=n) for n in range(days)]
    weights = [WEEKDAY_SHARE[day.weekday()] for day in dates]
    times = []
    while len(times) < count:
        day = rng.choices(dates, weights=weights)[0]
        hour = rng.choices(range(24), weights=HOUR_SHARE)[0]
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
        moment = local.replace(tzinfo=DESK_TIME_ZONE)
        if moment < now - timedelta(minutes=10):
            times.append(moment)
    return sorted(times)


def _team_agent(desk: Desk, team: str, exclude: User | None = None) -> User:
    people = [person for person in desk.members[team] if person != exclude] or desk.members[team]
    return desk.rng.choice(people)


def _plan_ticket(desk: Desk, created: datetime, requester: User | None = None) -> Plan:
    rng = desk.rng
    kind = TicketType.REQUEST if rng.random() < REQUEST_SHARE else TicketType.INCIDENT
    top = _pick(rng, TOP_SHARES[kind])
    top_name, _, subs = TREE[top]
    candidates = [sub for sub in subs if (sub[4] if kind == TicketType.INCIDENT else sub[5])]
    sub = rng.choices(candidates, weights=[item[1] for item in candidates])[0]
    name, _, service_name, team_name, incident_titles, request_titles = sub
    title = _fill(rng, rng.choice(incident_titles if kind == TicketType.INCIDENT else request_titles))
    impact, urgency = _pick(
        rng, INCIDENT_IMPACT_URGENCY if kind == TicketType.INCIDENT else REQUEST_IMPACT_URGENCY
    )
    drawn = rng.choices(desk.requesters, weights=desk.requester_weights)[0]  # drawn anyway: same sequence
    requester = requester or drawn
    channel = _pick(rng, CHANNELS[kind])
    desk_agent = _team_agent(desk, "Service Desk")
    plan = Plan(
        created=created,
        type=kind,
        title=title,
        description=f"{rng.choice(OPENINGS)}\n\n{rng.choice(DETAILS[kind])}\n\n{rng.choice(CLOSINGS)}",
        requester=requester,
        creator=requester if channel in (Channel.PORTAL, Channel.CHAT) else desk_agent,
        channel=channel,
        category=desk.categories.get((top_name, name)),
        service=desk.services.get(service_name),
        impact=impact,
        urgency=urgency,
    )
    resolve_h = _hours(rng, INCIDENT_HOURS if kind == TicketType.INCIDENT else REQUEST_HOURS)
    resolved = created + timedelta(hours=resolve_h, seconds=90)
    first = min(_hours(rng, FIRST_RESPONSE_HOURS), resolve_h * 0.6)
    replied = created + timedelta(hours=first, seconds=45)
    assigned = created + timedelta(hours=first * rng.uniform(0.2, 0.9), seconds=20)
    steps = plan.steps
    if rng.random() < CANCELLED_SHARE:
        steps.append(
            Step(
                assigned,
                "move",
                requester,
                "No longer needed, sorted it out myself.",
                {"to": Status.CANCELLED},
            )
        )
        return plan
    steps.append(Step(assigned, "assign", desk_agent, args={"team": "Service Desk", "assignee": desk_agent}))
    steps.append(Step(replied, "reply", desk_agent, rng.choice(AGENT_REPLIES)))
    steps.append(Step(replied + timedelta(seconds=5), "move", desk_agent, args={"to": Status.IN_PROGRESS}))
    owner = desk_agent
    span = resolved - replied
    if team_name != "Service Desk" and rng.random() < HANDED_ON_SHARE:
        owner = _team_agent(desk, team_name, exclude=desk_agent)
        tier = desk.teams[team_name].tier
        steps.append(
            Step(
                replied + span * 0.1,
                "assign",
                desk_agent,
                f"Escalated to {team_name} ({tier}).",
                {"team": team_name, "assignee": owner},
            )
        )
    if rng.random() < INTERNAL_NOTE_SHARE:
        steps.append(Step(replied + span * 0.2, "note", owner, rng.choice(INTERNAL_NOTES)))
    draw = rng.random()
    code = _pick(rng, INCIDENT_RESOLUTIONS if kind == TicketType.INCIDENT else REQUEST_RESOLUTIONS)
    if draw < PENDING_REQUESTER_SHARE or code == ResolutionCode.NO_RESPONSE:
        steps.append(
            Step(
                replied + span * 0.3,
                "move",
                owner,
                PENDING_NOTES[PendingReason.REQUESTER],
                {"to": Status.PENDING, "pending_reason": PendingReason.REQUESTER},
            )
        )
        if code != ResolutionCode.NO_RESPONSE:
            steps.append(Step(replied + span * 0.6, "answer", requester, rng.choice(REQUESTER_ANSWERS)))
    elif draw < PENDING_REQUESTER_SHARE + PENDING_VENDOR_SHARE:
        steps.append(
            Step(
                replied + span * 0.3,
                "move",
                owner,
                PENDING_NOTES[PendingReason.VENDOR],
                {"to": Status.PENDING, "pending_reason": PendingReason.VENDOR},
            )
        )
        steps.append(
            Step(replied + span * 0.8, "move", owner, "The vendor answered.", {"to": Status.IN_PROGRESS})
        )
    if (
        kind == TicketType.INCIDENT
        and rng.random() < PROBLEM_LINK_SHARE * 10
        and name in ("VPN & remote access", "ERP")
    ):
        problem = desk.problems.get(name)
        if problem is not None:
            steps.append(Step(replied + span * 0.4, "problem", owner, args={"problem": problem}))
    if rng.random() < WORKLOG_SHARE:
        minutes = max(5, min(240, int(resolve_h * 60 * rng.uniform(0.05, 0.3))))
        steps.append(Step(resolved - timedelta(seconds=30), "worklog", owner, args={"minutes": minutes}))
    steps.append(
        Step(
            resolved, "move", owner, RESOLUTION_NOTES[code], {"to": Status.RESOLVED, "resolution_code": code}
        )
    )
    if rng.random() < SURVEY_ANSWERED_SHARE:
        rating = _pick(rng, RATINGS)
        answered = resolved + timedelta(hours=rng.uniform(0.5, 72))
        comment = rng.choice(SURVEY_COMMENTS[rating])  # drawn either way: the demo stays the same
        if code != ResolutionCode.REJECTED:  # nothing was delivered to rate
            steps.append(Step(answered, "survey", requester, comment, {"rating": rating}))
    steps.append(
        Step(
            resolved + timedelta(days=CLOSE_AFTER_DAYS, minutes=rng.randrange(60)),
            "move",
            owner,
            args={"to": Status.CLOSED},
        )
    )
    steps.sort(key=lambda step: step.at)
    return plan


def _plan_major(desk: Desk, spec: tuple, start: datetime) -> list[Plan]:
    """A major incident raised by monitoring, its children from the people it hits."""
    rng = desk.rng
    title, service_name, team_name, child_titles, hours = spec
    noc = desk.members["Network Operations"][0]
    owner = _team_agent(desk, team_name)
    desk_agent = _team_agent(desk, "Service Desk")
    parent = Plan(
        created=start,
        type=TicketType.INCIDENT,
        title=title,
        description="Raised from a monitoring alert.\n\nSeveral users affected; see the linked tickets.",
        requester=noc,
        creator=noc,
        channel=Channel.MONITORING,
        category=None,
        service=desk.services.get(service_name),
        impact=1,
        urgency=1,
        is_major=True,
    )
    resolved = start + timedelta(hours=hours) if hours else None
    parent.steps += [
        Step(
            start + timedelta(minutes=4),
            "assign",
            noc,
            "Major incident declared.",
            {"team": team_name, "assignee": owner},
        ),
        Step(start + timedelta(minutes=5), "move", owner, args={"to": Status.IN_PROGRESS}),
        Step(start + timedelta(minutes=20), "note", owner, "Bridge call open; vendor engaged."),
    ]
    if resolved:
        parent.steps += [
            Step(
                resolved,
                "move",
                owner,
                "Service restored; monitoring green.",
                {"to": Status.RESOLVED, "resolution_code": ResolutionCode.SOLVED},
            ),
            Step(resolved + timedelta(days=CLOSE_AFTER_DAYS), "move", owner, args={"to": Status.CLOSED}),
        ]
    plans = [parent]
    for n in range(rng.randint(3, 6)):
        created = start + timedelta(minutes=10 + 17 * n + rng.randrange(10))
        requester = rng.choices(desk.requesters, weights=desk.requester_weights)[0]
        child = Plan(
            created=created,
            type=TicketType.INCIDENT,
            title=rng.choice(child_titles),
            description="Since this morning.\n\nThanks",
            requester=requester,
            creator=requester,
            channel=Channel.PORTAL,
            category=None,
            service=desk.services.get(service_name),
            impact=2,
            urgency=1,
            parent=parent,
        )
        at = created + timedelta(minutes=3)
        child.steps += [
            Step(at, "parent", desk_agent, args={"parent": parent}),
            Step(
                at + timedelta(seconds=10), "assign", desk_agent, args={"team": team_name, "assignee": owner}
            ),
            Step(
                at + timedelta(seconds=20),
                "reply",
                desk_agent,
                f"This is part of a major incident ({title}); we will update you here.",
            ),
        ]
        if resolved:
            child.steps += [
                Step(resolved + timedelta(seconds=30), "move", owner, args={"to": Status.IN_PROGRESS}),
                Step(
                    resolved + timedelta(minutes=1),
                    "move",
                    owner,
                    "Resolved with the major incident.",
                    {"to": Status.RESOLVED, "resolution_code": ResolutionCode.SOLVED},
                ),
                Step(
                    resolved + timedelta(days=CLOSE_AFTER_DAYS, minutes=1),
                    "move",
                    owner,
                    args={"to": Status.CLOSED},
                ),
            ]
        plans.append(child)
    return plans


# --- the bulk path: replay a plan into rows -----------------------------------------------------
_rendered: dict[str, str] = {}


def _html(text: str) -> str:
    if text not in _rendered:
        _rendered[text] = render_markdown(text) if text else ""
    return _rendered[text]


def _replay(desk: Desk, plan: Plan) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """The ticket's fields, its timeline and its survey as the services would have left them now."""
    priority = desk.matrix[(plan.impact, plan.urgency)]
    row: dict[str, Any] = {
        "status": Status.NEW,
        "pending_reason": "",
        "assigned_team": None,
        "assignee": None,
        "tier": "L1",
        "resolution_code": "",
        "resolution_notes": "",
        "first_response_at": None,
        "assigned_at": None,
        "resolved_at": None,
        "closed_at": None,
        "problem": None,
        "updated_at": plan.created,
    }
    events = [
        {
            "kind": EventKind.CREATED,
            "at": plan.created,
            "author": plan.creator,
            "data": {"channel": plan.channel, "priority": priority},
        }
    ]
    survey = None
    for step in plan.steps:
        if step.at > desk.now:
            break
        row["updated_at"] = step.at
        event = {"at": step.at, "author": step.actor, "body": step.body}
        if step.kind == "assign":
            team, assignee = desk.teams[step.args["team"]], step.args["assignee"]
            before = (
                row["assigned_team"].pk if row["assigned_team"] else None,
                row["assignee"].pk if row["assignee"] else None,
            )
            row.update(assigned_team=team, assignee=assignee, tier=team.tier, assigned_at=step.at)
            if row["status"] == Status.NEW:
                row["status"] = Status.ASSIGNED
            events.append(
                {
                    **event,
                    "kind": EventKind.ASSIGNMENT,
                    "data": {"team": [before[0], team.pk], "assignee": [before[1], assignee.pk]},
                }
            )
        elif step.kind == "reply":
            events.append({**event, "kind": EventKind.PUBLIC_REPLY})
            if row["first_response_at"] is None:
                row["first_response_at"] = step.at
        elif step.kind == "answer":
            events.append({**event, "kind": EventKind.PUBLIC_REPLY})
            if row["status"] == Status.PENDING and row["pending_reason"] == PendingReason.REQUESTER:
                row.update(status=Status.IN_PROGRESS, pending_reason="")
                events.append(
                    {
                        "at": step.at,
                        "author": step.actor,
                        "kind": EventKind.STATUS,
                        "data": {"status": [Status.PENDING, Status.IN_PROGRESS]},
                    }
                )
        elif step.kind == "note":
            events.append({**event, "kind": EventKind.INTERNAL_NOTE})
        elif step.kind == "worklog":
            events.append({**event, "kind": EventKind.WORKLOG, "minutes": step.args["minutes"]})
        elif step.kind == "move":
            to, before = step.args["to"], row["status"]
            reason, code = step.args.get("pending_reason", ""), step.args.get("resolution_code", "")
            row["status"], row["pending_reason"] = to, reason
            data: dict[str, Any] = {"status": [before, to]}
            if reason:
                data["pending_reason"] = reason
            if to == Status.RESOLVED:
                row.update(resolution_code=code, resolution_notes=step.body, resolved_at=step.at)
                data["resolution_code"] = code
                # As the desk does: a request its approvers rejected is not asked for a rating.
                survey = {"created_at": step.at} if code != ResolutionCode.REJECTED else None
            elif to == Status.CLOSED:
                row["closed_at"] = step.at
            events.append({**event, "kind": EventKind.STATUS, "data": data})
        elif step.kind == "survey":
            rating = step.args["rating"]
            survey = {**(survey or {}), "rating": rating, "comment": step.body, "answered_at": step.at}
            events.append({**event, "kind": EventKind.SURVEY, "data": {"rating": rating}})
        elif step.kind == "parent":
            events.append(
                {**event, "kind": EventKind.LINK, "data": {"parent": [None, step.args["parent"].number]}}
            )
            events.append(
                {
                    **event,
                    "ticket": step.args["parent"],
                    "body": "",
                    "kind": EventKind.LINK,
                    "data": {"child": plan.number},
                }
            )
        elif step.kind == "problem":
            row["problem"] = step.args["problem"]
            events.append({**event, "kind": EventKind.LINK, "data": {"problem": step.args["problem"].number}})
    return row, events, survey


@contextmanager
def _own_timestamps(*models) -> Iterator[None]:
    """Let bulk inserts keep the timestamps they are given (auto_now would stamp them now)."""
    fields = [(model._meta.get_field("created_at"), model._meta.get_field("updated_at")) for model in models]
    try:
        for created, updated in fields:
            created.auto_now_add = updated.auto_now = False
        yield
    finally:
        for created, updated in fields:
            created.auto_now_add = updated.auto_now = True


def _bulk(desk: Desk, plans: list[Plan]) -> None:
    tickets, timelines, surveys = [], [], []
    for plan in plans:
        row, events, survey = _replay(desk, plan)
        ticket = Ticket(
            number=plan.number,
            type=plan.type,
            title=plan.title,
            description=plan.description,
            description_html=_html(plan.description),
            requester=plan.requester,
            organization_id=plan.requester.organization_id,
            service=plan.service,
            category=plan.category,
            impact=plan.impact,
            urgency=plan.urgency,
            priority=desk.matrix[(plan.impact, plan.urgency)],
            channel=plan.channel,
            is_major=plan.is_major,
            created_at=plan.created,
            **row,
        )
        plan.ticket = ticket
        tickets.append(ticket)
        timelines.append(events)
        surveys.append(survey)
    with _own_timestamps(Ticket, TimelineEvent, Survey):
        Ticket.objects.bulk_create(tickets, batch_size=BATCH)
        children = [plan for plan in plans if plan.parent is not None]
        for plan in children:
            plan.ticket.parent_id = plan.parent.ticket.pk
        Ticket.objects.bulk_update([plan.ticket for plan in children], ["parent"], batch_size=BATCH)
        rows = []
        for ticket, events in zip(tickets, timelines, strict=True):
            for event in events:
                target = event.get("ticket")
                rows.append(
                    TimelineEvent(
                        ticket=target.ticket if target is not None else ticket,
                        kind=event["kind"],
                        author=event["author"],
                        body=event.get("body", ""),
                        body_html=_html(event.get("body", "")),
                        data=event.get("data", {}),
                        minutes=event.get("minutes"),
                        created_at=event["at"],
                        updated_at=event["at"],
                    )
                )
        rows.sort(key=lambda event: event.created_at)
        TimelineEvent.objects.bulk_create(rows, batch_size=BATCH)
        Survey.objects.bulk_create(
            (
                Survey(
                    ticket=ticket,
                    token=secrets.token_urlsafe(32),
                    rating=survey.get("rating"),
                    comment=survey.get("comment", ""),
                    answered_at=survey.get("answered_at"),
                    needs_review=survey.get("rating", 5) <= LOW_RATING,
                    created_at=survey["created_at"],
                    updated_at=survey.get("answered_at", survey["created_at"]),
                )
                for ticket, survey in zip(tickets, surveys, strict=True)
                if survey is not None
            ),
            batch_size=BATCH,
        )


# --- the service path: the same plan, one service call per step ---------------------------------
def _through_services(desk: Desk, plan: Plan) -> None:
    marker = TimelineEvent.objects.aggregate(last=Max("id"))["last"] or 0
    ticket = services.ticket_create(
        actor=plan.creator,
        requester=plan.requester,
        title=plan.title,
        type=plan.type,
        description=plan.description,
        service=plan.service,
        category=plan.category,
        impact=plan.impact,
        urgency=plan.urgency,
        channel=plan.channel,
    )
    plan.ticket, plan.number = ticket, ticket.number
    moments = [(marker, plan.created)]
    for step in plan.steps:
        if step.at > desk.now:
            break
        moments.append((TimelineEvent.objects.aggregate(last=Max("id"))["last"], step.at))
        actor = step.actor
        if step.kind == "assign":
            services.ticket_assign(
                actor=actor,
                ticket=ticket,
                team=desk.teams[step.args["team"]],
                assignee=step.args["assignee"],
                reason=step.body,
            )
        elif step.kind in ("reply", "answer", "note"):
            services.ticket_reply(actor=actor, ticket=ticket, body=step.body, public=step.kind != "note")
        elif step.kind == "worklog":
            services.ticket_log_work(actor=actor, ticket=ticket, minutes=step.args["minutes"])
        elif step.kind == "move":
            code = step.args.get("resolution_code", "")
            services.ticket_transition(
                actor=actor,
                ticket=ticket,
                to=step.args["to"],
                resolution_code=code,
                resolution_notes=step.body if code else "",
                pending_reason=step.args.get("pending_reason", ""),
                note="" if code else step.body,
            )
        elif step.kind == "survey":
            services.survey_answer(
                survey=Survey.objects.get(ticket=ticket),
                rating=step.args["rating"],
                comment=step.body,
                actor=actor,
            )
        elif step.kind == "parent":
            parent = Ticket.objects.get(pk=step.args["parent"].ticket.pk)
            services.ticket_set_parent(actor=actor, ticket=ticket, parent=parent)
        elif step.kind == "problem":
            services.problem_link_incident(actor=actor, problem=step.args["problem"], incident=ticket)
        # A fresh instance: the audit diff of the next step needs the values as loaded.
        ticket = Ticket.objects.get(pk=ticket.pk)
    # Move what happened now to when the plan says it happened.
    bounds = [*moments[1:], (TimelineEvent.objects.aggregate(last=Max("id"))["last"], None)]
    for (start, at), (end, _) in zip(moments, bounds, strict=True):
        TimelineEvent.objects.filter(id__gt=start, id__lte=end).update(created_at=at, updated_at=at)
    row, _, survey = _replay(desk, plan)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=plan.created,
        **{
            name: row[name]
            for name in ("updated_at", "first_response_at", "assigned_at", "resolved_at", "closed_at")
        },
    )
    if survey is not None:
        Survey.objects.filter(ticket=ticket).update(
            created_at=survey["created_at"],
            updated_at=survey.get("answered_at", survey["created_at"]),
            answered_at=survey.get("answered_at"),
        )


# --- loading ------------------------------------------------------------------------------------------
def _load_categories() -> dict[tuple[str, str], Category]:
    categories = {}
    for top_name, description, subs in TREE.values():
        top, _ = Category.objects.get_or_create(
            name=top_name, parent=None, defaults={"description": description}
        )
        for name, *_ in subs:
            categories[(top_name, name)], _ = Category.objects.get_or_create(name=name, parent=top)
    return categories


def _load_requesters(rng: random.Random) -> list[User]:
    organizations = {org.name: org for org in Organization.objects.filter(name__in=REQUESTER_ORGANIZATIONS)}
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    password = make_password(None)
    people = []
    taken = set(User.objects.values_list("username", flat=True))
    for first, last in names[:GENERATED_REQUESTERS]:
        username = f"{first}.{last}".lower()
        org_name = _pick(
            rng, {name: share for name, share in REQUESTER_ORGANIZATIONS.items() if name in organizations}
        )
        organization = organizations[org_name]
        if username not in taken:
            people.append(
                User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@{organization.email_domain or 'example.com'}",
                    password=password,
                    role=Role.REQUESTER,
                    organization=organization,
                    location=organization.location,
                )
            )
    User.objects.bulk_create(people, batch_size=BATCH)
    return list(User.objects.filter(username__in=[person.username for person in people]))


def _load_problems(
    admin: User, teams: dict[str, Team], members: dict[str, list[User]], categories
) -> dict[str, Problem]:
    problems = {}
    for title, subcategory, team_name, cause, workaround in PROBLEMS:
        category = next((item for (top, sub), item in categories.items() if sub == subcategory), None)
        problems[subcategory] = services.problem_create(
            actor=members[team_name][0],
            title=title,
            category=category,
            assigned_team=teams[team_name],
            assignee=members[team_name][0],
            root_cause=cause,
            workaround=workaround,
            known_error=bool(cause and workaround),
            status=ProblemStatus.INVESTIGATING,
        )
    return problems


def _number_plans(plans: list[Plan]) -> None:
    last = dict(NumberSequence.objects.values_list("prefix", "last"))
    for plan in plans:
        prefix = NUMBER_PREFIX[plan.type]
        last[prefix] = last.get(prefix, NUMBER_START - 1) + 1
        plan.number = f"{prefix}{last[prefix]:07d}"
    for prefix, value in last.items():
        NumberSequence.objects.update_or_create(prefix=prefix, defaults={"last": value})


def load_tickets(
    admin: User, *, count: int = DEFAULT_TICKETS, days: int = HISTORY_DAYS, service_days: int = SERVICE_DAYS
) -> int:
    """Load the demo desk once: returns the number of tickets added (0 when already there)."""
    first_top = next(iter(TREE.values()))[0]
    if Category.objects.filter(name=first_top, parent=None).exists():
        return 0
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    now = timezone.now()
    categories = _load_categories()
    teams = {team.name: team for team in Team.objects.all()}
    members: dict[str, list[User]] = {name: [] for name in teams}
    for membership in TeamMembership.objects.select_related("user", "team").order_by("user__username"):
        members[membership.team.name].append(membership.user)
    generated = _load_requesters(rng)
    demo = list(User.objects.filter(username__in=DEMO_REQUESTERS).order_by("username"))
    # A few people raise many tickets, most a few (Pareto), scaled to what the demo logins leave.
    weights = [rng.paretovariate(2.5) for _ in generated]
    scale = (1 - DEMO_REQUESTER_SHARE * len(demo)) / max(1e-9, sum(weights))
    desk = Desk(
        rng=rng,
        now=now,
        admin=admin,
        teams=teams,
        members=members,
        services={service.name: service for service in Service.objects.all()},
        categories=categories,
        requesters=demo + generated,
        requester_weights=[DEMO_REQUESTER_SHARE] * len(demo) + [weight * scale for weight in weights],
        problems={},
        matrix={
            cell: services.priority_for(impact=cell[0], urgency=cell[1]) for cell in DEFAULT_PRIORITY_MATRIX
        },
    )
    desk.problems = _load_problems(admin, teams, members, categories)
    arrivals = _arrivals(rng, count, now, days)
    # Every demo login has tickets of their own, however small the load: at 0.4 % each, a
    # 300-ticket desk left one of them with none about one run in three. The newest are theirs.
    theirs = {len(arrivals) - 1 - n: user for n, user in enumerate(demo)}
    plans = [_plan_ticket(desk, created, requester=theirs.get(n)) for n, created in enumerate(arrivals)]
    for n, spec in enumerate(MAJOR_INCIDENTS):
        if spec[4] is None:
            start = now - timedelta(hours=2)
        else:
            start = (now - timedelta(days=days * (n + 1) / (len(MAJOR_INCIDENTS) + 1))).replace(
                hour=8, minute=40
            )
        plans += _plan_major(desk, spec, start)
    plans.sort(key=lambda plan: plan.created)
    cut = now - timedelta(days=service_days)
    historical = [plan for plan in plans if plan.created < cut]
    recent = [plan for plan in plans if plan.created >= cut]
    _number_plans(historical)
    _bulk(desk, historical)
    for plan in recent:
        _through_services(desk, plan)
    _load_rules(admin, teams)
    return len(plans)


def _load_rules(admin: User, teams: dict[str, Team]) -> None:
    """A few rules of the kind a desk starts with, added after the history so they act only on
    new tickets: network words go to Network Operations, requests to the Service Desk. The two
    escalation rules are examples left switched off: on, the first sweep would escalate (and
    e-mail about) the demo's whole open backlog."""
    routing_rule_save(
        actor=admin,
        data={
            "name": "Network trouble to Network Operations",
            "position": 10,
            "conditions": [
                {"name": "words", "params": {"any": ["vpn", "wifi", "wi-fi", "network", "firewall"]}}
            ],
            "actions": {"team": teams["Network Operations"].pk, "tags": ["network"]},
        },
    )
    routing_rule_save(
        actor=admin,
        data={
            "name": "Requests to the Service Desk",
            "position": 20,
            "conditions": [{"name": "ticket_type", "params": {"in": ["request"]}}],
            "actions": {"team": teams["Service Desk"].pk},
        },
    )
    escalation_rule_save(
        actor=admin,
        data={
            "name": "P1: tell the lead",
            "kind": "hierarchical",
            "position": 10,
            "is_active": False,
            "conditions": [{"name": "priority", "params": {"in": [1]}}],
        },
    )
    escalation_rule_save(
        actor=admin,
        data={
            "name": "No answer within an hour",
            "kind": "functional",
            "position": 20,
            "is_active": False,
            "conditions": [{"name": "no_first_response_minutes", "params": {"minutes": 60}}],
        },
    )
