"""The service portfolio at scale: dependency checks, CSV import and the API, against raw limits.

    python bench/portfolio.py               # full run on SQLite (about 2 minutes)
    python bench/portfolio.py --quick       # short run (under a minute)
    python bench/portfolio.py --database-url postgres://postgres@127.0.0.1:5432/test

What it does, in order:

1. makes a throw-away data directory (and, for PostgreSQL, a scratch database next to the
   one named, dropped at the end), migrates it and loads, in a child process: an
   administrator with an API token, 12 teams, 1,000 services (each with a support tier and an
   escalation team) and about 3,000 dependency edges that always point from a service to one
   created before it, so the graph has no cycle. Bulk inserts skip the audit trail: this is
   set-up, not what is measured;
2. in the same child, times ``selectors.dependency_graph(max_depth=4)`` and
   ``services.dependency_cycle`` (a check that finds no cycle, and one that finds one) call by
   call, beside the raw read of every edge with sqlite3 / psycopg and no Django;
3. times ``csv_exchange.services_import`` of 500 new rows, as a preview and then applied,
   beside a raw ``bulk_create`` of 500 services, and counts the queries and the time spent in
   the cycle check during the apply;
4. starts the real server, ``python -m opsdesk serve --no-worker``, and drives ``/healthz``,
   ``GET /api/v1/services/{id}/`` and ``GET /api/v1/services/?page_size=50`` with 1 and 8
   keep-alive connections (the load generator of bench/api.py);
5. prints the figures and the ratios to the raw limits, then stops the server with SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import api as apibench  # noqa: E402  (bench/api.py: server, load generator, scratch database)

ROOT = BENCH.parent
HOST = apibench.HOST
CONCURRENCY = (1, 8)
SERVICES = 1_000
EDGES_PER_SERVICE = 3  # 2,994 edges in all: the first three services have fewer to choose from
TEAMS = 12
IMPORT_ROWS = 500
PAGE_SIZE = 50
SEED = 20250601


@dataclass(frozen=True)
class Budget:
    """Each measurement stops at whichever limit comes first."""

    calls: int  # calls of each portfolio function
    call_seconds: float
    raw_seconds: float
    http: apibench.Budget


QUICK = Budget(
    calls=40,
    call_seconds=3.0,
    raw_seconds=1.0,
    http=apibench.Budget(seconds=2.0, requests=3_000, warmup_seconds=0.3, raw_read_seconds=1.0),
)
FULL = Budget(
    calls=300,
    call_seconds=12.0,
    raw_seconds=3.0,
    http=apibench.Budget(seconds=10.0, requests=40_000, warmup_seconds=1.0, raw_read_seconds=3.0),
)

EDGES_SQL = "SELECT service_id, depends_on_id FROM portfolio_servicedependency"


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "calls": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
    }


def _timed_calls(function, arguments: list, *, calls: int, seconds: float) -> list[float]:
    """Call ``function(argument)`` round-robin over ``arguments``; one duration per call."""
    for argument in arguments[:3]:  # warm-up: imports, caches, the first connection
        function(argument)
    samples, deadline = [], time.perf_counter() + seconds
    for n in range(calls):
        argument = arguments[n % len(arguments)]
        started = time.perf_counter()
        function(argument)
        samples.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return samples


# --- the raw limit: every edge, no Django ----------------------------------------------------------
def raw_edge_reads(*, sqlite_path: str, database_url: str, calls: int, seconds: float) -> list[float]:
    if database_url:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
            return _timed_calls(
                lambda _: cursor.execute(EDGES_SQL, prepare=True).fetchall(),
                [None],
                calls=calls,
                seconds=seconds,
            )
    conn = sqlite3.connect(sqlite_path)
    try:
        return _timed_calls(
            lambda _: conn.execute(EDGES_SQL).fetchall(), [None], calls=calls, seconds=seconds
        )
    finally:
        conn.close()


# --- the child: data, then the in-process measurements ------------------------------------------
def seed_and_measure(output: Path, budget: Budget, database_url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from opsdesk.accounts.choices import Role, Tier
    from opsdesk.accounts.models import Team, User
    from opsdesk.accounts.services import token_create
    from opsdesk.core.audit import acting
    from opsdesk.core.choices import Channel as AuditChannel
    from opsdesk.portfolio import csv_exchange, selectors, services
    from opsdesk.portfolio.choices import Channel, Criticality, ServiceType, Stage
    from opsdesk.portfolio.models import (
        BusinessCalendar,
        Service,
        ServiceDependency,
        ServiceSupportTier,
    )

    rng = random.Random(SEED)
    call_command("migrate", "--no-input", verbosity=0)
    with transaction.atomic(), acting(channel=AuditChannel.CLI):
        admin = User.objects.create_superuser("bench-admin", "bench-admin@example.com", None, role=Role.ADMIN)
        owner = User.objects.create_user("bench-owner", "owner@example.com", None, role=Role.SERVICE_OWNER)
        teams = Team.objects.bulk_create(
            Team(name=f"Team {n:02d}", tier=(Tier.L1, Tier.L2, Tier.L3)[n % 3], email=f"team{n}@example.com")
            for n in range(TEAMS)
        )
        calendar = BusinessCalendar.objects.create(name="Office hours", time_zone="Europe/Berlin")
        types, stages = list(ServiceType.values), [Stage.PIPELINE, Stage.CATALOGUE, Stage.CATALOGUE]
        portfolio = Service.objects.bulk_create(
            Service(
                name=f"Service {n:04d}",
                description=f"What service {n} does for its users.",
                type=types[n % len(types)],
                stage=stages[n % len(stages)],
                owner=owner if n % 2 else admin,
                criticality=Criticality.values[n % 4],
                service_hours=calendar,
                channels=[Channel.PORTAL, Channel.EMAIL],
                service_levels="99.5 % in service hours",
                support_languages=["en", "de"],
            )
            for n in range(SERVICES)
        )
        # Each service needs up to three services created before it: the graph is acyclic by
        # construction. Half the picks are near neighbours, so the graph has long chains too.
        edges = set()
        for index in range(1, SERVICES):
            targets: set[int] = set()
            while len(targets) < min(EDGES_PER_SERVICE, index):
                near = max(0, index - 20)
                targets.add(rng.randrange(near, index) if rng.random() < 0.5 else rng.randrange(index))
            edges.update((index, target) for target in targets)
        ServiceDependency.objects.bulk_create(
            ServiceDependency(service=portfolio[a], depends_on=portfolio[b]) for a, b in sorted(edges)
        )
        ServiceSupportTier.objects.bulk_create(
            ServiceSupportTier(service=service, tier=Tier.L1, team=teams[n % TEAMS], staffed_by="in-house")
            for n, service in enumerate(portfolio)
        )
        Service.escalation_teams.through.objects.bulk_create(
            Service.escalation_teams.through(service_id=service.pk, team_id=teams[(n + 1) % TEAMS].pk)
            for n, service in enumerate(portfolio)
        )
        _, token = token_create(actor=admin, user=admin, name="benchmark")

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    sqlite_path = str(connection.settings_dict["NAME"]) if connection.vendor == "sqlite" else ""

    # 1. dependency graph and cycle check --------------------------------------------------------
    centres = [portfolio[i] for i in rng.sample(range(SERVICES), 50)]
    graph_sizes = [len(selectors.dependency_graph(user=admin, service=s, max_depth=4).nodes) for s in centres]
    graph = _timed_calls(
        lambda service: selectors.dependency_graph(user=admin, service=service, max_depth=4),
        centres,
        calls=budget.calls,
        seconds=budget.call_seconds,
    )
    # A new dependency on an older service closes no cycle: the search walks everything
    # upstream of the targets and finds no way back.
    safe = [(portfolio[i], [portfolio[j] for j in rng.sample(range(i), 3)]) for i in range(500, 1000, 10)]
    no_cycle = _timed_calls(
        lambda pair: services.dependency_cycle(service=pair[0], depends_on=pair[1]),
        safe,
        calls=budget.calls,
        seconds=budget.call_seconds,
    )
    assert all(services.dependency_cycle(service=s, depends_on=d) is None for s, d in safe[:5])
    # An old service that would depend on one of its own dependents: the search finds the way back.
    closing = []
    for source, target in sorted(edges)[:: len(edges) // 50]:
        closing.append((portfolio[target], [portfolio[source]]))
    cycle = _timed_calls(
        lambda pair: services.dependency_cycle(service=pair[0], depends_on=pair[1]),
        closing,
        calls=budget.calls,
        seconds=budget.call_seconds,
    )
    assert all(services.dependency_cycle(service=s, depends_on=d) for s, d in closing[:5])
    raw_edges = raw_edge_reads(
        sqlite_path=sqlite_path, database_url=database_url, calls=budget.calls * 5, seconds=budget.raw_seconds
    )

    # 2. CSV import ---------------------------------------------------------------------------
    # 500 new services; each needs one to three existing services, and one in five also a
    # service earlier in the same file.
    lines = [
        "name,description,type,stage,owner,criticality,service_hours,depends_on,channels,support_languages"
    ]
    for n in range(IMPORT_ROWS):
        needs = [f"Service {i:04d}" for i in rng.sample(range(SERVICES), rng.randint(1, 3))]
        if n and n % 5 == 0:
            needs.append(f"Imported {rng.randrange(n):04d}")
        lines.append(
            f"Imported {n:04d},Imported in the benchmark,{types[n % 3]},pipeline,bench-owner,"
            f"{1 + n % 4},Office hours,{';'.join(needs)},portal;email,en;de"
        )
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    preview = csv_exchange.services_import(actor=admin, data=data, apply=False)
    preview_seconds = time.perf_counter() - started
    assert preview.ok and not preview.applied, (preview.errors, [r.errors for r in preview.rows if r.errors])

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    cycle_time, cycle_calls = [0.0], [0]
    original = services.dependency_cycle

    def timed_cycle(**kwargs):
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            cycle_time[0] += time.perf_counter() - started
            cycle_calls[0] += 1

    services.dependency_cycle = timed_cycle  # _set_dependencies looks it up in the module
    try:
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            applied = csv_exchange.services_import(actor=admin, data=data, apply=True)
            apply_seconds = time.perf_counter() - started
    finally:
        services.dependency_cycle = original
    assert applied.applied, applied.errors
    assert Service.objects.filter(name__startswith="Imported ").count() == IMPORT_ROWS

    # The raw limit: the same number of rows in one bulk insert, with no checks and no audit.
    bulk_names = [f"Bulk {n:04d}" for n in range(IMPORT_ROWS)]
    started = time.perf_counter()
    with transaction.atomic():
        Service.objects.bulk_create(
            Service(name=name, owner=owner, service_hours=calendar, channels=["portal"])
            for name in bulk_names
        )
    bulk_seconds = time.perf_counter() - started
    Service.objects.filter(name__in=bulk_names).delete()

    detail = portfolio[SERVICES // 2]
    output.write_text(
        json.dumps(
            {
                "token": token,
                "detail_id": detail.pk,
                "services": SERVICES,
                "edges": len(edges),
                "edges_after_import": ServiceDependency.objects.count(),
                "teams": TEAMS,
                "database": version,
                "sqlite_path": sqlite_path,
                "graph_nodes_mean": statistics.mean(graph_sizes),
                "graph_nodes_max": max(graph_sizes),
                "dependency_graph": _stats(graph),
                "cycle_none": _stats(no_cycle),
                "cycle_found": _stats(cycle),
                "raw_edges": _stats(raw_edges),
                "import_rows": IMPORT_ROWS,
                "preview_seconds": preview_seconds,
                "apply_seconds": apply_seconds,
                "apply_queries": queries[0],
                "apply_cycle_calls": cycle_calls[0],
                "apply_cycle_seconds": cycle_time[0],
                "bulk_seconds": bulk_seconds,
            }
        )
    )


# --- the API over the real server --------------------------------------------------------------
def check_endpoints(port: int, token: str, detail_id: int) -> None:
    import httpx

    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        detail = client.get(f"/api/v1/services/{detail_id}/", headers=auth)
        assert detail.status_code == 200 and detail.json()["id"] == detail_id, detail.text[:500]
        assert detail.json()["depends_on"] and detail.json()["support_tiers"], detail.text[:500]
        listing = client.get(f"/api/v1/services/?page_size={PAGE_SIZE}", headers=auth)
        assert listing.status_code == 200, listing.text[:500]
        assert len(listing.json()["results"]) == PAGE_SIZE, listing.text[:500]
        assert client.get("/api/v1/services/").status_code == 401


HELLO = "hello world  GET /healthz (no database)"
DETAIL = "API detail   GET /api/v1/services/{id}/"
LIST = f"API list     GET /api/v1/services/?page_size={PAGE_SIZE}"


# --- report ------------------------------------------------------------------------------------
def report(*, command: str, facts: dict, results: dict, run: str) -> None:
    import django
    import rest_framework
    import uvicorn

    print()
    print("OpsDesk portfolio benchmark")
    print(f"  command   {command}")
    print(
        f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    print(
        f"  software  Django {django.__version__}, DRF {rest_framework.VERSION}, "
        f"uvicorn {uvicorn.__version__} "
        f"({apibench.uvicorn_stack()}; 1 process via 'opsdesk serve --no-worker')"
    )
    print(f"  database  {facts['database']}")
    print(
        f"  data      {facts['services']:,} services, {facts['edges']:,} dependency edges (acyclic), "
        f"{facts['teams']} teams; a depth-4 neighbourhood holds {facts['graph_nodes_mean']:.0f} services "
        f"on average (max {facts['graph_nodes_max']})"
    )
    print(f"  run       {run}")
    print()

    print("  1. dependency graph and cycle check, per call")
    header = f"  {'what':<58} {'calls':>6} {'median ms':>10} {'p95 ms':>8} {'÷ raw':>7}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    raw = facts["raw_edges"]["median_ms"]
    rows = [
        ("selectors.dependency_graph(max_depth=4), as admin", facts["dependency_graph"]),
        ("services.dependency_cycle, no cycle (3 new targets)", facts["cycle_none"]),
        ("services.dependency_cycle, cycle found (1 new target)", facts["cycle_found"]),
        (f"raw: {EDGES_SQL[:44]}…", facts["raw_edges"]),
    ]
    for label, stats in rows:
        print(
            f"  {label:<58} {stats['calls']:>6} {stats['median_ms']:>10.2f} {stats['p95_ms']:>8.2f} "
            f"{stats['median_ms'] / raw:>7.1f}"
        )
    print(
        f"  (÷ raw: median of the call / median of the raw read of all {facts['edges']:,} edges, no Django)"
    )
    print()

    rows_n = facts["import_rows"]
    preview_rate = rows_n / facts["preview_seconds"]
    apply_rate = rows_n / facts["apply_seconds"]
    bulk_rate = rows_n / facts["bulk_seconds"]
    print(f"  2. CSV import of {rows_n} new services (1–3 dependencies each)")
    header = f"  {'what':<58} {'seconds':>8} {'rows/s':>8} {'÷ bulk':>8}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for label, seconds, rate in (
        ("csv_exchange.services_import(apply=False)  preview", facts["preview_seconds"], preview_rate),
        ("csv_exchange.services_import(apply=True)   apply", facts["apply_seconds"], apply_rate),
        (f"raw: Service.objects.bulk_create({rows_n} rows)", facts["bulk_seconds"], bulk_rate),
    ):
        print(f"  {label:<58} {seconds:>8.3f} {rate:>8,.0f} {rate / bulk_rate:>8.4f}")
    print(
        f"  the apply ran {facts['apply_queries']:,} queries "
        f"({facts['apply_queries'] / rows_n:.0f} a row) and "
        f"{facts['apply_cycle_calls']:,} cycle checks, which took {facts['apply_cycle_seconds']:.2f} s "
        f"({100 * facts['apply_cycle_seconds'] / facts['apply_seconds']:.0f} % of the apply)"
    )
    print()

    print("  3. API over the real server")
    header = (
        f"  {'what':<48} {'conc':>4} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for (name, concurrency), result in results.items():
        print(
            f"  {name:<48} {concurrency:>4} {result.requests:>9,} {result.rps:>9,.0f} "
            f"{result.percentile(0.50):>8.2f} {result.percentile(0.95):>8.2f} {result.errors:>6}"
        )
    print()
    print(f"  {'ratio':<48} " + " ".join(f"{'c=' + str(c):>9}" for c in CONCURRENCY))
    for label, top in (
        ("API detail req/s / hello-world req/s", DETAIL),
        ("API list req/s / hello-world req/s", LIST),
    ):
        cells = [f"{results[(top, c)].rps / results[(HELLO, c)].rps:>9.3f}" for c in CONCURRENCY]
        print(f"  {label:<48} " + " ".join(cells))
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument(
        "--database-url",
        default="",
        help="bench PostgreSQL: a scratch database is created on this server and dropped after",
    )
    parser.add_argument("--seed-into", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    budget = QUICK if options.quick else FULL
    if options.seed_into:
        seed_and_measure(options.seed_into, budget, os.environ.get("OPSDESK_DATABASE_URL", ""))
        return 0

    command = "python bench/portfolio.py" + "".join(f" {shlex.quote(arg)}" for arg in sys.argv[1:])
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-") as tmp:
        data_dir = Path(tmp)
        env = apibench.bench_env(data_dir)
        scratch_name = ""
        if options.database_url:
            database_url, scratch_name = apibench.scratch_database(options.database_url)
            env["OPSDESK_DATABASE_URL"] = database_url
        server = None
        try:
            print(
                f"bench: loading {SERVICES:,} services and timing the dependency checks and the CSV import …",
                flush=True,
            )
            facts_path = data_dir / "facts.json"
            child = [sys.executable, __file__, "--seed-into", str(facts_path)]
            subprocess.run([*child, *(["--quick"] if options.quick else [])], env=env, check=True, cwd=ROOT)
            facts = json.loads(facts_path.read_text())
            port = apibench.free_port()
            print(f"bench: starting the server on http://{HOST}:{port}/ …", flush=True)
            server = apibench.start_server(env, port, data_dir / "server.log")
            check_endpoints(port, facts["token"], facts["detail_id"])
            targets = [
                (HELLO, "/healthz", None),
                (DETAIL, f"/api/v1/services/{facts['detail_id']}/", facts["token"]),
                (LIST, f"/api/v1/services/?page_size={PAGE_SIZE}", facts["token"]),
            ]
            results = {}
            for name, path, token in targets:
                for concurrency in CONCURRENCY:
                    print(f"bench: {name.split('  ')[0]} at concurrency {concurrency} …", flush=True)
                    results[(name, concurrency)] = apibench.measure(
                        port=port,
                        name=name,
                        path=path,
                        token=token,
                        concurrency=concurrency,
                        budget=budget.http,
                    )
            failed = {key: result.statuses for key, result in results.items() if result.errors}
            if failed:
                print(f"bench: some answers were not 200: {failed}; the server's log ends:", file=sys.stderr)
                print(apibench._tail(data_dir / "server.log"), file=sys.stderr)
        finally:
            if server is not None:
                apibench.stop_server(server)
            if scratch_name:
                apibench.drop_database(options.database_url, scratch_name)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    run = (
        f"{'quick' if options.quick else 'full'}: up to {budget.calls} calls or "
        f"{budget.call_seconds:g} s per function; HTTP steps {budget.http.seconds:g} s or "
        f"{budget.http.requests:,} requests after "
        f"{budget.http.warmup_seconds:g} s warm-up; {time.monotonic() - started:.0f} s in all; {load}"
    )
    report(command=command, facts=facts, results=results, run=run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
