"""API throughput and latency of a real OpsDesk server, against the limits below it.

    python bench/api.py                     # full run on SQLite (about 3 minutes)
    python bench/api.py --quick             # short run (under a minute)
    python bench/api.py --database-url postgres://postgres@127.0.0.1:5432/test

What it does, in order:

1. makes a throw-away data directory (and, for PostgreSQL, a scratch database next to the
   one named, dropped at the end), migrates it and loads 2,000 people in 20 organisations
   and 30 teams through the real models, plus an administrator and an API token made by
   ``opsdesk.accounts.services.token_create``;
2. measures the database's raw read rate: the same row the detail request reads, by
   primary key, in a tight loop with sqlite3 / psycopg and no Django at all;
3. starts the real server, ``python -m opsdesk serve --no-worker`` (uvicorn), and drives
   ``/healthz`` (no database), ``GET /api/v1/users/{id}/`` and
   ``GET /api/v1/users/?page_size=50`` with 1, 8 and 32 concurrent keep-alive connections,
   each step bounded in both requests and seconds;
4. prints requests/s, p50 and p95 latency and the ratios to the hello-world view and to the
   raw read rate, then stops the server with SIGINT.

The load generator is a few lines of asyncio over raw sockets rather than an HTTP client
library: on a two-core machine the client shares the CPU with the server, and a cheaper
client leaves more of it to the thing being measured. httpx checks each endpoint's answer
once before it is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import json
import os
import platform
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CONCURRENCY = (1, 8, 32)
ORGANIZATIONS = 20
USERS = 2_000
TEAMS = 30
LOCATIONS = 5
AGENT_EVERY = 8  # one person in eight works in the service desk; the rest are requesters
PAGE_SIZE = 50


@dataclass(frozen=True)
class Budget:
    """How long each measurement may run: whichever limit comes first ends it."""

    seconds: float
    requests: int
    warmup_seconds: float
    raw_read_seconds: float


QUICK = Budget(seconds=2.0, requests=3_000, warmup_seconds=0.3, raw_read_seconds=1.0)
FULL = Budget(seconds=10.0, requests=40_000, warmup_seconds=1.0, raw_read_seconds=3.0)


# --- 1. data, in a child process with the environment set before Django loads ------------------
def seed(output: Path) -> None:
    """Migrate and load the benchmark data set; write what the parent needs as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from opsdesk.accounts.choices import OrganizationKind, Role, Tier
    from opsdesk.accounts.models import Location, Organization, Team, TeamMembership, User
    from opsdesk.accounts.services import token_create
    from opsdesk.core.audit import acting
    from opsdesk.core.choices import Channel

    call_command("migrate", "--no-input", verbosity=0)
    # Bulk inserts skip the audit trail on purpose: reads are measured here, not writes.
    with transaction.atomic(), acting(channel=Channel.CLI):
        admin = User.objects.create_superuser("bench-admin", "bench-admin@example.com", None, role=Role.ADMIN)
        locations = Location.objects.bulk_create(
            Location(name=f"Site {n}", city=f"City {n}", country="DE", time_zone="Europe/Berlin")
            for n in range(LOCATIONS)
        )
        organizations = Organization.objects.bulk_create(
            Organization(
                name=f"Organisation {n:02d}",
                kind=OrganizationKind.CUSTOMER,
                email_domain=f"org{n:02d}.example",
                location=locations[n % LOCATIONS],
            )
            for n in range(ORGANIZATIONS)
        )
        password = make_password("bench-password-not-for-login")  # hashed once, shared
        people = User.objects.bulk_create(
            User(
                username=f"person{n:04d}",
                email=f"person{n:04d}@org{n % ORGANIZATIONS:02d}.example",
                first_name=f"First{n}",
                last_name=f"Last{n}",
                password=password,
                role=Role.AGENT if n % AGENT_EVERY == 0 else Role.REQUESTER,
                organization=organizations[n % ORGANIZATIONS],
                location=locations[n % LOCATIONS],
                job_title="Engineer" if n % AGENT_EVERY == 0 else "Analyst",
                phone=f"+49 30 {n:07d}",
            )
            for n in range(USERS)
        )
        agents = [person for person in people if person.role == Role.AGENT]
        teams = Team.objects.bulk_create(
            Team(
                name=f"Team {n:02d}",
                tier=(Tier.L1, Tier.L2, Tier.L3)[n % 3],
                email=f"team{n:02d}@example.com",
                lead=agents[n],
            )
            for n in range(TEAMS)
        )
        # Every agent sits in two teams, so each listed agent carries team ids.
        TeamMembership.objects.bulk_create(
            TeamMembership(team=teams[(i + k) % TEAMS], user=agent)
            for i, agent in enumerate(agents)
            for k in (0, 7)
        )
        _, token = token_create(actor=admin, user=admin, name="benchmark")
    detail = agents[len(agents) // 2]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    output.write_text(
        json.dumps(
            {
                "token": token,
                "detail_id": detail.pk,
                "people": User.objects.count(),
                "organizations": Organization.objects.count(),
                "teams": Team.objects.count(),
                "memberships": TeamMembership.objects.count(),
                "database": version,
                "sqlite_path": str(connection.settings_dict["NAME"]) if connection.vendor == "sqlite" else "",
            }
        )
    )


# --- 2. the database's own limit -----------------------------------------------------------------
DETAIL_SQL = "SELECT * FROM accounts_user WHERE id = {placeholder}"


def raw_reads_per_second(*, sqlite_path: str, database_url: str, row_id: int, seconds: float) -> float:
    """The detail row by primary key, over and over, on one connection with no Django."""
    if database_url:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
            sql = DETAIL_SQL.format(placeholder="%s")
            return _read_loop(lambda: cursor.execute(sql, (row_id,), prepare=True).fetchone(), seconds)
    conn = sqlite3.connect(sqlite_path)
    try:
        sql = DETAIL_SQL.format(placeholder="?")
        return _read_loop(lambda: conn.execute(sql, (row_id,)).fetchone(), seconds)
    finally:
        conn.close()


def _read_loop(read, seconds: float) -> float:
    for _ in range(100):
        assert read() is not None
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            read()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


# --- 3. load generator -----------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _connection(
    port: int, request: bytes, result: Result | None, stop_at: float, budget: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while budget[0] > 0 and time.perf_counter() < stop_at:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            if result is not None:
                result.latencies.append(time.perf_counter() - started)
                result.requests += 1
                result.errors += status != 200
                result.statuses[status] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def _load(
    port: int, request: bytes, concurrency: int, seconds: float, requests: int, result: Result | None
) -> None:
    budget = [requests]
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, request, result, started + seconds, budget) for _ in range(concurrency))
    )
    if result is not None:
        result.seconds = time.perf_counter() - started


def measure(
    *, port: int, name: str, path: str, token: str | None, concurrency: int, budget: Budget
) -> Result:
    headers = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: application/json"]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode()
    asyncio.run(_load(port, request, concurrency, budget.warmup_seconds, budget.requests, None))
    result = Result(name=name, concurrency=concurrency)
    asyncio.run(_load(port, request, concurrency, budget.seconds, budget.requests, result))
    return result


# --- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "opsdesk", "serve", "--no-worker", "--host", HOST, "--port", str(port)]
    log = log_path.open("wb")
    # Its own session: a Ctrl-C in this terminal reaches us, and we stop the server in order.
    server = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"bench: the server exited with {server.returncode}; its log:\n{log_path.read_text()}"
            )
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"bench: /healthz did not answer within 60 s; the server's log:\n{log_path.read_text()}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def check_endpoints(port: int, token: str, detail_id: int) -> None:
    """Each timed URL answers 200 with what a client expects, before any timing."""
    base = f"http://{HOST}:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        detail = client.get(f"/api/v1/users/{detail_id}/", headers=auth)
        assert detail.status_code == 200 and detail.json()["id"] == detail_id, detail.text[:500]
        assert detail.json()["teams"], "the detail row should be an agent with teams"
        listing = client.get(f"/api/v1/users/?page_size={PAGE_SIZE}", headers=auth)
        assert listing.status_code == 200, listing.text[:500]
        assert len(listing.json()["results"]) == PAGE_SIZE, listing.text[:500]
        assert client.get("/api/v1/users/").status_code == 401, "the API must refuse anonymous reads"


# --- PostgreSQL scratch database ----------------------------------------------------------------
def scratch_database(url: str) -> tuple[str, str]:
    """Create an empty database beside the one in ``url``; returns its URL and name."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"opsdesk_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def uvicorn_stack() -> str:
    """What uvicorn picks by default: httptools and uvloop when installed, else h11 and asyncio."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{http} + {loop}"


# --- report -----------------------------------------------------------------------------------------
def report(
    *,
    command: str,
    facts: dict,
    raw_rps: float,
    results: dict[tuple[str, int], Result],
    budget_name: str,
    raw_seconds: float,
) -> None:
    import django
    import rest_framework
    import uvicorn

    print()
    print("OpsDesk API benchmark")
    print(f"  command   {command}")
    print(
        f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    print(
        f"  software  Django {django.__version__}, DRF {rest_framework.VERSION}, "
        f"uvicorn {uvicorn.__version__} ({uvicorn_stack()}; 1 process via 'opsdesk serve --no-worker')"
    )
    print(f"  database  {facts['database']}")
    print(
        f"  data      {facts['people']:,} people ({facts['people'] // AGENT_EVERY:,} agents) in "
        f"{facts['organizations']} organisations, {facts['teams']} teams, "
        f"{facts['memberships']:,} team memberships"
    )
    print(f"  run       {budget_name}")
    print("            the load generator runs on the same machine as the server")
    print()
    header = (
        f"  {'what':<44} {'conc':>4} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for (name, concurrency), result in results.items():
        print(
            f"  {name:<44} {concurrency:>4} {result.requests:>9,} {result.rps:>9,.0f} "
            f"{result.percentile(0.50):>8.2f} {result.percentile(0.95):>8.2f} {result.errors:>6}"
        )
    print(
        f"  {'raw DB read of the detail row by primary key':<44} {1:>4} {'':>9} {raw_rps:>9,.0f}   "
        f"(reads/s, {raw_seconds:.0f} s, no Django)"
    )
    print()
    print(f"  {'ratio':<44} " + " ".join(f"{'c=' + str(c):>9}" for c in CONCURRENCY))
    rows = [
        ("API detail req/s / hello-world req/s", DETAIL, HELLO, None),
        ("API list req/s / hello-world req/s", LIST, HELLO, None),
        ("API detail req/s / raw DB reads/s", DETAIL, None, raw_rps),
    ]
    for label, top, bottom, fixed in rows:
        cells = []
        for concurrency in CONCURRENCY:
            denominator = fixed if fixed is not None else results[(bottom, concurrency)].rps
            cells.append(f"{results[(top, concurrency)].rps / denominator:>9.3f}")
        print(f"  {label:<44} " + " ".join(cells))
    print()


HELLO = "hello world  GET /healthz (no database)"
DETAIL = "API detail   GET /api/v1/users/{id}/"
LIST = f"API list     GET /api/v1/users/?page_size={PAGE_SIZE}"


def bench_env(data_dir: Path) -> dict[str, str]:
    """The environment of a benchmark's server and seeding child: a scratch data directory,
    production settings, quiet logs, and SQLite unless the caller sets a database URL."""
    env = {
        **os.environ,
        "OPSDESK_DATA_DIR": str(data_dir),
        "OPSDESK_DEBUG": "0",
        "OPSDESK_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "opsdesk.config.settings",
    }
    env.pop("OPSDESK_DATABASE_URL", None)
    return env


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
    if options.seed_into:
        seed(options.seed_into)
        return 0

    command = "python bench/api.py" + "".join(f" {shlex.quote(arg)}" for arg in sys.argv[1:])
    budget = QUICK if options.quick else FULL
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-") as tmp:
        data_dir = Path(tmp)
        env = bench_env(data_dir)
        database_url = scratch_name = ""
        if options.database_url:
            database_url, scratch_name = scratch_database(options.database_url)
            env["OPSDESK_DATABASE_URL"] = database_url
        server = None
        try:
            print(f"bench: loading {USERS:,} people into a fresh database …", flush=True)
            facts_path = data_dir / "facts.json"
            subprocess.run(
                [sys.executable, __file__, "--seed-into", str(facts_path)], env=env, check=True, cwd=ROOT
            )
            facts = json.loads(facts_path.read_text())
            raw_rps = raw_reads_per_second(
                sqlite_path=facts["sqlite_path"],
                database_url=database_url,
                row_id=facts["detail_id"],
                seconds=budget.raw_read_seconds,
            )
            port = free_port()
            print(f"bench: starting the server on http://{HOST}:{port}/ …", flush=True)
            server = start_server(env, port, data_dir / "server.log")
            check_endpoints(port, facts["token"], facts["detail_id"])
            targets = [
                (HELLO, "/healthz", None),
                (DETAIL, f"/api/v1/users/{facts['detail_id']}/", facts["token"]),
                (LIST, f"/api/v1/users/?page_size={PAGE_SIZE}", facts["token"]),
            ]
            results = {}
            for name, path, token in targets:
                for concurrency in CONCURRENCY:
                    print(f"bench: {name.split('  ')[0]} at concurrency {concurrency} …", flush=True)
                    results[(name, concurrency)] = measure(
                        port=port, name=name, path=path, token=token, concurrency=concurrency, budget=budget
                    )
            failed = {key: result.statuses for key, result in results.items() if result.errors}
            if failed:
                print(f"bench: some answers were not 200: {failed}; the server's log ends:", file=sys.stderr)
                print(_tail(data_dir / "server.log"), file=sys.stderr)
        finally:
            if server is not None:
                stop_server(server)
            if scratch_name:
                drop_database(options.database_url, scratch_name)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    budget_name = (
        f"{'quick' if options.quick else 'full'}: each step {budget.seconds:g} s or "
        f"{budget.requests:,} requests after {budget.warmup_seconds:g} s warm-up; "
        f"{time.monotonic() - started:.0f} s in all; {load}"
    )
    report(
        command=command,
        facts=facts,
        raw_rps=raw_rps,
        results=results,
        budget_name=budget_name,
        raw_seconds=budget.raw_read_seconds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
