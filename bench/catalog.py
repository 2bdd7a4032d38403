"""The request catalogue under load: orders and approval decisions through the services, beside
plain ticket inserts on the same database in the same run, and the approver's inbox and the team
task queue at scale, on SQLite and PostgreSQL.

    python bench/catalog.py                 # 1,000 orders; 1,000,000 requests behind the reads
    python bench/catalog.py --quick         # 200 orders; 100,000 requests (a few minutes)
    python bench/catalog.py --quick --engines sqlite
    python bench/catalog.py --postgres-url postgres://postgres@127.0.0.1:5432/test

For each engine, in a child process with a throw-away data directory (SQLite) or a scratch
database beside the one named (PostgreSQL, dropped at the end):

1. migrate; 2,000 requesters, each with one of 200 line managers (one manager, "busy", approves a
   fifth of everything), 8 teams of 10 agents, a service with office hours and an item whose form
   has 6 fields (text, long text, number, choice, multiple choice, date), one approval step (the
   requester's manager) and two fulfilment tasks in parallel (two teams);
2. R requests written directly (``bulk_create``: tickets, requests, approvals, tasks; 5 % awaiting
   approval, 10 % in fulfilment, the rest fulfilled), so the reads run against a realistic
   history. The services would take hours for a million;
3. plain ticket inserts/s: 20,000 tickets with ``bulk_create`` (batches of 5,000): what the
   database does with no rules at all;
4. orders/s: N orders through ``request_order`` (answers cleaned, approvers resolved, ticket
   raised with routing, audit and search index, request written, approvals started and their
   e-mail queued), one transaction each, as the portal places them;
5. decisions/s: the N approvals approved through ``approval_decide`` (each approval completes the
   step and starts fulfilment: two tasks, the ticket assigned and put in progress);
6. p50/p95 of the reads the pages run: the inbox (``approvals_inbox``: first 50 + count) of a
   typical manager and of the busy one; the team queue (``tasks_for_teams``: first 50 + count)
   of an agent's teams and of one team.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from scratch import run_engine

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SEED = 11
BATCH = 5_000
REQUESTERS = 2_000
MANAGERS = 200
BUSY_SHARE = 0.2
TEAMS = 8
AGENTS_PER_TEAM = 10
PLAIN_TICKETS = 20_000
READS = 100
PAGE = 50
AWAITING_SHARE, IN_FULFILMENT_SHARE = 0.05, 0.10
ANSWERS = {
    "model": "Standard 14-inch",
    "reason": "The old one no longer charges.",
    "quantity": 1,
    "keyboard": "UK",
    "accessories": ["Headset", "Mouse"],
    "needed_by": "2031-01-15",
}
FORM = [
    {
        "key": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "choices": ["Standard 14-inch", "Performance 16-inch"],
    },
    {"key": "reason", "label": "Why", "type": "long_text", "required": True, "max_length": 2000},
    {
        "key": "quantity",
        "label": "How many",
        "type": "number",
        "min": 1,
        "max": 10,
        "integer": True,
        "required": True,
    },
    {"key": "keyboard", "label": "Keyboard", "type": "text", "max_length": 20},
    {
        "key": "accessories",
        "label": "Accessories",
        "type": "multi_choice",
        "choices": ["Headset", "Mouse", "Backpack"],
    },
    {"key": "needed_by", "label": "Needed by", "type": "date"},
]


# --- the parent: one child per engine, then the report ------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 orders, 100,000 requests")
    parser.add_argument("--orders", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite data directory (to EXPLAIN)")
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    orders = args.orders or (200 if args.quick else 1_000)
    requests = args.requests if args.requests is not None else (100_000 if args.quick else 1_000_000)
    if args.child:
        return child(orders=orders, requests=requests)
    print(f"== load average before: {_load()}; {os.cpu_count()} cores")
    results = {}
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        results[name] = run_child(name, args, orders=orders, requests=requests)
    print(f"\n== load average after: {_load()}")
    report(results, orders=orders, requests=requests)
    return 0


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def run_child(name: str, args, *, orders: int, requests: int) -> dict:
    child_args = ["--orders", str(orders), "--requests", str(requests)]
    return run_engine(
        name,
        script=__file__,
        postgres_url=args.postgres_url,
        child_args=child_args,
        prefix="opsdesk_catalog_bench",
        keep=args.keep,
    )


def report(results: dict, *, orders: int, requests: int) -> None:
    print(f"\n== catalogue writes ({orders:,} orders and decisions through the services; ms per call)")
    print(f"{'engine':<9} {'operation':<28} {'per s':>9} {'p50':>7} {'p95':>7}  vs bulk ticket inserts")
    for engine, data in results.items():
        plain = data["plain_tickets_per_s"]
        print(f"{engine:<9} {'plain tickets (bulk_create)':<28} {plain:>9,.0f} {'':>7} {'':>7}")
        for name in ("orders", "decisions"):
            row = data[name]
            print(
                f"{engine:<9} {name + ' (services)':<28} {row['per_s']:>9,.1f} {row['p50']:>7.1f}"
                f" {row['p95']:>7.1f}  1 : {plain / row['per_s']:,.0f}"
            )
    print(f"\n== reads with {requests:,} requests behind them (first {PAGE} + count; ms)")
    print(f"{'engine':<9} {'read':<34} {'rows':>7} {'p50':>7} {'p95':>7}")
    for engine, data in results.items():
        for row in data["reads"]:
            print(f"{engine:<9} {row['read']:<34} {row['rows']:>7,} {row['p50']:>7.1f} {row['p95']:>7.1f}")
        print(f"{engine:<9} seeded {requests:,} requests in {data['seed_seconds']:.0f} s")


# --- the child: seed, measure, print one JSON line ---------------------------------------------
def child(*, orders: int, requests: int) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    rng = random.Random(SEED)
    world = setup_world()
    started = time.perf_counter()
    seed_requests(rng, world, requests)
    seed_seconds = time.perf_counter() - started
    analyze()
    result = {
        "seed_seconds": seed_seconds,
        "plain_tickets_per_s": plain_tickets(world),
        "orders": None,
        "decisions": None,
    }
    placed, result["orders"] = place_orders(world, orders)
    result["decisions"] = decide(placed)
    analyze()
    result["reads"] = reads(rng, world)
    print(json.dumps(result))
    return 0


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-6)
    print(f"   {label}: {done:,}/{total:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def setup_world() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from opsdesk.accounts.choices import OrganizationKind, Role
    from opsdesk.accounts.models import Organization, Team, TeamMembership, User
    from opsdesk.catalog.choices import ApproverKind
    from opsdesk.catalog.models import ApprovalStep, CatalogCategory, CatalogItem, TaskTemplate
    from opsdesk.portfolio.models import BusinessCalendar, Offering, Service

    hours = [["08:00", "18:00"]]
    with transaction.atomic():
        organization = Organization.objects.create(name="Bench Ltd", kind=OrganizationKind.CUSTOMER)
        password = make_password("bench-not-for-login")
        managers = User.objects.bulk_create(
            User(username=f"m{n}", password=password, role=Role.REQUESTER, organization=organization)
            for n in range(MANAGERS)
        )
        requesters = User.objects.bulk_create(
            User(
                username=f"r{n}",
                password=password,
                role=Role.REQUESTER,
                organization=organization,
                manager=managers[n % MANAGERS],
            )
            for n in range(REQUESTERS)
        )
        teams = Team.objects.bulk_create(Team(name=f"Team {n}") for n in range(TEAMS))
        agents = User.objects.bulk_create(
            User(username=f"a{n}", password=password, role=Role.AGENT) for n in range(TEAMS * AGENTS_PER_TEAM)
        )
        TeamMembership.objects.bulk_create(
            TeamMembership(team=teams[n // AGENTS_PER_TEAM], user=agent) for n, agent in enumerate(agents)
        )
        # The first agent also works in the second team: the queue reads two teams.
        TeamMembership.objects.create(team=teams[1], user=agents[0])
        calendar = BusinessCalendar.objects.create(
            name="Office hours",
            time_zone="Europe/Berlin",
            working_hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), hours) | {"sat": [], "sun": []},
        )
        service = Service.objects.create(
            name="End-User Devices", description="Laptops.", service_hours=calendar
        )
        offering = Offering.objects.create(service=service, name="Laptop", cost=1000, price=1200)
        category = CatalogCategory.objects.create(name="Hardware", slug="hardware")
        item = CatalogItem.objects.create(
            offering=offering, category=category, name="New laptop", slug="new-laptop", price=1200, form=FORM
        )
        ApprovalStep.objects.create(item=item, position=1, kind=ApproverKind.MANAGER, name="Manager")
        for team in teams[:2]:
            TaskTemplate.objects.create(
                item=item, stage=1, name=f"Work of {team.name}", team=team, target_minutes=480
            )
    return {
        "item": item,
        "managers": managers,
        "requesters": requesters,
        "teams": teams,
        "agents": agents,
        "organization": organization,
    }


def seed_requests(rng: random.Random, world: dict, total: int) -> None:
    """Requests with their ticket, approval and two tasks, written directly."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from opsdesk.catalog.choices import ApprovalState, RequestState, TaskState
    from opsdesk.catalog.models import Approval, CatalogRequest, RequestTask
    from opsdesk.tickets.choices import Status, TicketType
    from opsdesk.tickets.models import NumberSequence, Ticket

    item, managers, requesters, teams = world["item"], world["managers"], world["requesters"], world["teams"]
    now = timezone.now()
    started = time.perf_counter()
    for first in range(0, total, BATCH):
        numbers = range(first, min(total, first + BATCH))
        shapes = []
        for n in numbers:
            roll = rng.random()
            state = (
                RequestState.AWAITING_APPROVAL
                if roll < AWAITING_SHARE
                else RequestState.IN_FULFILMENT
                if roll < AWAITING_SHARE + IN_FULFILMENT_SHARE
                else RequestState.FULFILLED
            )
            requester = requesters[rng.randrange(REQUESTERS)]
            approver = managers[0] if rng.random() < BUSY_SHARE else managers[rng.randrange(MANAGERS)]
            ordered = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
            team_pair = rng.sample(teams, 2)
            shapes.append((n, state, requester, approver, ordered, team_pair))
        with transaction.atomic():
            tickets = Ticket.objects.bulk_create(
                Ticket(
                    number=f"REQ{n + 1:07d}",
                    type=TicketType.REQUEST,
                    title=f"New laptop for {requester.username}",
                    requester=requester,
                    organization_id=requester.organization_id,
                    status=Status.RESOLVED if state == RequestState.FULFILLED else Status.IN_PROGRESS,
                )
                for n, state, requester, _approver, _ordered, _teams in shapes
            )
            rows = CatalogRequest.objects.bulk_create(
                CatalogRequest(
                    ticket=ticket,
                    item=item,
                    ordered_by=requester,
                    requested_for=requester,
                    form=FORM,
                    answers=ANSWERS,
                    price=item.price,
                    currency=item.currency,
                    state=state,
                    expected_at=ordered + timedelta(days=7),
                    approved_at=None
                    if state == RequestState.AWAITING_APPROVAL
                    else ordered + timedelta(hours=5),
                    fulfilled_at=ordered + timedelta(days=5) if state == RequestState.FULFILLED else None,
                )
                for ticket, (_n, state, requester, _approver, ordered, _teams) in zip(
                    tickets, shapes, strict=True
                )
            )
            Approval.objects.bulk_create(
                Approval(
                    request=request,
                    step=1,
                    step_name="Manager",
                    approver=approver,
                    state=ApprovalState.PENDING
                    if state == RequestState.AWAITING_APPROVAL
                    else ApprovalState.APPROVED,
                    requested_at=ordered,
                    decided_at=None
                    if state == RequestState.AWAITING_APPROVAL
                    else ordered + timedelta(hours=5),
                )
                for request, (_n, state, _requester, approver, ordered, _teams) in zip(
                    rows, shapes, strict=True
                )
            )
            task_state = {RequestState.IN_FULFILMENT: TaskState.OPEN, RequestState.FULFILLED: TaskState.DONE}
            RequestTask.objects.bulk_create(
                RequestTask(
                    request=request,
                    number=f"TSK{2 * n + side + 1:08d}",
                    name=f"Work of {team.name}",
                    team=team,
                    state=task_state.get(state, TaskState.WAITING),
                    target_minutes=480,
                    opened_at=None
                    if state == RequestState.AWAITING_APPROVAL
                    else ordered + timedelta(hours=5),
                    due_at=None if state == RequestState.AWAITING_APPROVAL else ordered + timedelta(days=2),
                    done_at=ordered + timedelta(days=4) if state == RequestState.FULFILLED else None,
                )
                for request, (n, state, _requester, _approver, ordered, team_pair) in zip(
                    rows, shapes, strict=True
                )
                for side, team in enumerate(team_pair)
            )
        progress("requests", min(total, first + BATCH), total, started)
    NumberSequence.objects.update_or_create(prefix="REQ", defaults={"last": total})


def plain_tickets(world: dict) -> float:
    """Tickets per second through bulk_create alone: no rules, no audit, no index."""
    from django.db import transaction

    from opsdesk.tickets.choices import TicketType
    from opsdesk.tickets.models import Ticket

    requester = world["requesters"][0]
    started = time.perf_counter()
    for first in range(0, PLAIN_TICKETS, BATCH):
        with transaction.atomic():
            Ticket.objects.bulk_create(
                Ticket(
                    number=f"BLK{n:07d}",
                    type=TicketType.REQUEST,
                    title="Plain insert",
                    requester=requester,
                    organization_id=requester.organization_id,
                )
                for n in range(first, min(PLAIN_TICKETS, first + BATCH))
            )
    return PLAIN_TICKETS / (time.perf_counter() - started)


def _figures(durations: list[float], wall: float) -> dict:
    ordered = sorted(durations)
    return {
        "per_s": len(durations) / wall,
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000,
    }


def place_orders(world: dict, count: int) -> tuple[list, dict]:
    from opsdesk.catalog.services.ordering import request_order

    item, requesters = world["item"], world["requesters"]
    placed, durations = [], []
    started = time.perf_counter()
    for n in range(count):
        one = time.perf_counter()
        placed.append(request_order(actor=requesters[n % REQUESTERS], item=item, answers=ANSWERS))
        durations.append(time.perf_counter() - one)
    return placed, _figures(durations, time.perf_counter() - started)


def decide(placed: list) -> dict:
    from opsdesk.catalog.choices import ApprovalState, Decision
    from opsdesk.catalog.models import Approval
    from opsdesk.catalog.services.approvals import approval_decide

    approvals = list(
        Approval.objects.filter(request__in=placed, state=ApprovalState.PENDING).select_related("approver")
    )
    durations = []
    started = time.perf_counter()
    for approval in approvals:
        one = time.perf_counter()
        approval_decide(actor=approval.approver, approval=approval, decision=Decision.APPROVE, comment="OK")
        durations.append(time.perf_counter() - one)
    return _figures(durations, time.perf_counter() - started)


def reads(rng: random.Random, world: dict) -> list[dict]:
    from opsdesk.catalog.selectors import approvals_inbox, tasks_for_teams

    managers, agents, teams = world["managers"], world["agents"], world["teams"]
    scenarios = [
        ("inbox: a typical manager", lambda: approvals_inbox(user=managers[rng.randrange(1, MANAGERS)])),
        ("inbox: the busy manager", lambda: approvals_inbox(user=managers[0])),
        ("task queue: an agent's two teams", lambda: tasks_for_teams(user=agents[0])),
        ("task queue: one team", lambda: tasks_for_teams(user=agents[0], team=teams[0])),
    ]
    rows = []
    for name, build in scenarios:
        samples, counted = [], 0
        for n in range(READS + 5):  # the first five warm the caches
            start = time.perf_counter()
            queryset = build()
            list(queryset[:PAGE])
            counted = queryset.count()
            if n >= 5:
                samples.append(time.perf_counter() - start)
        figures = _figures(samples, sum(samples))
        rows.append({"read": name, "rows": counted, "p50": figures["p50"], "p95": figures["p95"]})
    return rows


if __name__ == "__main__":
    sys.exit(main())
