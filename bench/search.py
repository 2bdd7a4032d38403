"""One search at scale: full-text search over tickets and knowledge articles on SQLite (FTS5) and
PostgreSQL (tsvector + GIN), beside the bare engine query on the same rows in the same run.

    python bench/search.py                 # 1,000,000 tickets + 100,000 articles, both databases
    python bench/search.py --quick         # 50,000 tickets + 10,000 articles (a few minutes)
    python bench/search.py --quick --engines sqlite
    python bench/search.py --postgres-url postgres://postgres@127.0.0.1:5432/test
    python bench/search.py --keep --seed-only   # seed once (minutes at full size) and keep it
    python bench/search.py --reuse-sqlite DIR --reuse-postgres DB   # measure on what was kept

For each engine, in a child process with a throw-away data directory (SQLite) or a scratch
database beside the one named (PostgreSQL, dropped at the end):

1. migrate; load 20 organisations, 2,000 requesters, 60 agents; then N tickets with
   ``bulk_create`` and their search documents with ``executemany`` (batches of 5,000, a progress
   line). Creating them through the services would run routing, SLA clocks and the audit trail
   for every ticket — hours for a million — so the rows are written directly, with text drawn
   from the Endava support-ticket subset in ../shared/data (read only, never copied) when it is
   there, else from a built-in word list. Articles follow (published; one in ten internal, the
   rest public), each with its document, written the same way.
2. measures p50/p95 of ``search_documents`` (what the page and the API call: permission
   intersection in SQL, per-kind counts, ranked page, highlighted snippets, objects loaded) for
   tickets as a requester (their own), as a requester whose organisation shares its tickets
   (one organisation's, 1/20 of them), and as an agent; of the article search at the engine
   (ranked page + count, the whole kind, no permissions: ``articles``) and as a requester
   (published public articles: the portal's suggestions) and an agent would run it (articles
   only counted), at concurrency 1 and 8 (processes, as the server's workers, one database
   connection each; the searches and the bare engine queries in separate runs); beside it the
   bare engine query (``MATCH`` + bm25 / ``@@`` + ts_rank_cd, top 20, no permissions) over the
   same queries;
3. measures write-to-searchable lag: a ticket created through ``ticket_create`` (indexed by the
   registry in the same transaction), then searched for by a word only it has, until found.

Targets: articles p95 ≤ 50 ms, tickets p95 ≤ 200 ms with permission filters.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

from scratch import run_engine

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = ROOT.parent / "shared" / "data" / "endava-support-tickets-subset" / "all_tickets_first5431.dev.csv.gz"
SEED = 7
BATCH = 5_000
ORGANIZATIONS = 20
REQUESTERS = 2_000
AGENTS = 60
QUERIES = 200
QUICK_QUERIES = 80
CONCURRENCY = (1, 8)
TARGETS = {
    "articles": 50.0,
    "articles (requester)": 50.0,
    "articles (agent)": 50.0,
    "tickets (requester)": 200.0,
    "tickets (organisation)": 200.0,
    "tickets (agent)": 200.0,
}
FALLBACK_WORDS = [
    "printer",
    "vpn",
    "password",
    "reset",
    "laptop",
    "screen",
    "outlook",
    "email",
    "mailbox",
    "quota",
    "disk",
    "network",
    "wifi",
    "access",
    "account",
    "locked",
    "license",
    "install",
    "update",
    "error",
    "crash",
    "slow",
    "server",
    "database",
    "backup",
    "restore",
    "meeting",
    "room",
    "phone",
    "headset",
    "badge",
    "keyboard",
    "mouse",
    "monitor",
    "docking",
    "station",
    "teams",
    "sharepoint",
    "folder",
    "permission",
    "request",
    "new",
    "user",
    "onboarding",
    "offboarding",
    "invoice",
    "payroll",
    "report",
    "dashboard",
    "login",
    "certificate",
    "expired",
    "firewall",
    "proxy",
    "browser",
    "chrome",
    "firefox",
    "driver",
    "firmware",
    "battery",
    "charger",
]


# --- the parent: one child per engine, then the report ------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 tickets, 10,000 articles")
    parser.add_argument("--tickets", type=int)
    parser.add_argument("--articles", type=int)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases for --reuse-*")
    parser.add_argument("--seed-only", action="store_true", help="seed, measure nothing")
    parser.add_argument("--reuse-sqlite", metavar="DIR", help="a data directory kept by --keep")
    parser.add_argument("--reuse-postgres", metavar="DB", help="a database kept by --keep")
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--seeded", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    tickets = args.tickets or (50_000 if args.quick else 1_000_000)
    articles = args.articles or (10_000 if args.quick else 100_000)
    queries = QUICK_QUERIES if args.quick else QUERIES
    if args.child:
        return child(
            args.child,
            tickets=tickets,
            articles=articles,
            queries=queries,
            seeded=args.seeded,
            seed_only=args.seed_only,
        )
    print(f"== load average before: {os.getloadavg()}; {os.cpu_count()} cores")
    results = {}
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        results[name] = run_child(name, args, tickets=tickets, articles=articles)
    print(f"\n== load average after: {os.getloadavg()}")
    if not args.seed_only:
        report(results, tickets=tickets, articles=articles)
    return 0


def run_child(name: str, args, *, tickets: int, articles: int) -> dict:
    child_args = ["--tickets", str(tickets), "--articles", str(articles)]
    if args.quick:
        child_args.append("--quick")
    if args.seed_only:
        child_args.append("--seed-only")
    return run_engine(
        name,
        script=__file__,
        postgres_url=args.postgres_url,
        child_args=child_args,
        prefix="opsdesk_search_bench",
        keep=args.keep,
        reuse=getattr(args, f"reuse_{name}"),
    )


def report(results: dict, *, tickets: int, articles: int) -> None:
    print(
        f"\n== search, {tickets:,} tickets + {articles:,} articles"
        " (ms; raw = the bare engine query, same queries)"
    )
    print(
        f"{'engine':<9} {'scenario':<22} {'c':>2} {'p50':>7} {'p95':>7} {'raw p50':>8} {'raw p95':>8}  target"
    )
    for engine, data in results.items():
        for row in data["rows"]:
            target = TARGETS.get(row["scenario"])
            verdict = ""
            if target is not None:
                verdict = f"p95 ≤ {target:.0f}: {'met' if row['p95'] <= target else 'NOT met'}"
            print(
                f"{engine:<9} {row['scenario']:<22} {row['c']:>2} {row['p50']:>7.1f} {row['p95']:>7.1f}"
                f" {row['raw_p50']:>8.1f} {row['raw_p95']:>8.1f}  {verdict}"
            )
        lag = data["lag"]
        print(
            f"{engine:<9} write→searchable: create p50 {lag['create_p50']:.1f} ms, searchable after commit "
            f"p50 {lag['visible_p50']:.1f} / max {lag['visible_max']:.1f} ms (target < 2,000 ms); "
            f"seeded in {data['seed_seconds']:.0f} s"
        )


# --- the child: seed, measure, print one JSON line ---------------------------------------------
def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    """Titles and bodies of real support tickets when the shared data is there."""
    titles, bodies = [], []
    if DATA.exists():
        with gzip.open(DATA, "rt", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["title"].strip():
                    titles.append(row["title"].strip())
                if row["body"].strip():
                    bodies.append(row["body"].strip())
    if not titles:
        for _ in range(2000):
            titles.append(" ".join(rng.choices(FALLBACK_WORDS, k=rng.randint(3, 7))))
            bodies.append(" ".join(rng.choices(FALLBACK_WORDS, k=rng.randint(20, 80))))
    return titles, bodies


def child(name: str, *, tickets: int, articles: int, queries: int, seeded: bool, seed_only: bool) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    from opsdesk.tickets import search_index

    search_index.register()  # as tickets.apps does at start-up
    rng = random.Random(SEED)
    titles, bodies = vocabulary(rng)
    started = time.perf_counter()
    if seeded:
        from opsdesk.accounts.models import User

        people = {"requester": User.objects.get(username="p0"), "agent": User.objects.get(username="a0")}
    else:
        people = seed(rng, titles, bodies, tickets=tickets, articles=articles)
    people["colleague"] = sharing_requester()
    seed_seconds = time.perf_counter() - started
    if seed_only:
        print(json.dumps({"seed_seconds": seed_seconds}))
        return 0
    words = sorted({w for t in titles for w in t.lower().split() if w.isalpha() and len(w) > 3})
    # Their own generator: the same queries whether the data was seeded now or kept.
    sample = make_queries(random.Random(SEED + 1), titles, words, queries)
    rows = []
    for c in CONCURRENCY:
        rows.append(measure("tickets (requester)", people["requester"], sample, c, kinds=("ticket",)))
        rows.append(measure("tickets (organisation)", people["colleague"], sample, c, kinds=("ticket",)))
        rows.append(measure("tickets (agent)", people["agent"], sample, c, kinds=("ticket",)))
        rows.append(measure("articles", None, sample, c, kinds=("article",)))
        for who in ("requester", "agent"):
            scenario = f"articles ({who})"
            rows.append(measure(scenario, people[who], sample, c, kinds=("article",), others=False))
    lag = write_lag(people["agent"], people["requester"])
    print(json.dumps({"rows": rows, "lag": lag, "seed_seconds": seed_seconds}))
    return 0


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-6)
    print(f"   {label}: {done:,}/{total:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True)


def seed(rng, titles, bodies, *, tickets: int, articles: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from opsdesk.accounts.choices import OrganizationKind, Role
    from opsdesk.accounts.models import Organization, User
    from opsdesk.core.fulltext import _dt, clean_text, engine
    from opsdesk.knowledge.choices import ArticleStatus, Audience
    from opsdesk.knowledge.models import Article
    from opsdesk.knowledge.search_index import article_readers
    from opsdesk.tickets.choices import Status, TicketType
    from opsdesk.tickets.models import NumberSequence, Ticket

    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            Organization(name=f"Org {n}", kind=OrganizationKind.CUSTOMER, email_domain=f"o{n}.example")
            for n in range(ORGANIZATIONS)
        )
        password = make_password("bench-not-for-login")
        requesters = User.objects.bulk_create(
            User(
                username=f"p{n}", password=password, role=Role.REQUESTER, organization=orgs[n % ORGANIZATIONS]
            )
            for n in range(REQUESTERS)
        )
        agents = User.objects.bulk_create(
            User(username=f"a{n}", password=password, role=Role.AGENT) for n in range(AGENTS)
        )
    statuses = [Status.CLOSED] * 8 + [Status.NEW, Status.IN_PROGRESS]
    now = timezone.now()
    insert = (
        "INSERT INTO core_searchdocument (kind, object_id, private, has_private, status, service_id,"
        " created_at, readers, title, body, indexed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    # Who may read a ticket, as tickets.search_index.ticket_readers writes it.
    readers = engine().readers_value
    started = time.perf_counter()
    for first in range(0, tickets, BATCH):
        batch = []
        for n in range(first, min(tickets, first + BATCH)):
            requester = requesters[rng.randrange(REQUESTERS)]
            batch.append(
                Ticket(
                    number=f"INC{n + 1:07d}",
                    type=TicketType.INCIDENT,
                    title=rng.choice(titles)[:200],
                    description=rng.choice(bodies),
                    requester=requester,
                    organization_id=requester.organization_id,
                    status=rng.choice(statuses),
                )
            )
        with transaction.atomic():
            created = Ticket.objects.bulk_create(batch)
            stamp = _dt(now)
            with connection.cursor() as cursor:
                cursor.executemany(
                    insert,
                    [
                        (
                            "ticket",
                            t.pk,
                            False,
                            False,
                            t.status,
                            None,
                            stamp,
                            readers((f"u{t.requester_id}", f"o{t.organization_id}")),
                            f"{t.number} {t.title}",
                            clean_text(f"{t.number} {t.number[3:].lstrip('0')}\n{t.description}"),
                            stamp,
                        )
                        for t in created
                    ],
                )
        progress("tickets", min(tickets, first + BATCH), tickets, started)
    NumberSequence.objects.update_or_create(prefix="INC", defaults={"last": tickets})
    started = time.perf_counter()
    for first in range(0, articles, BATCH):
        texts = []
        for _ in range(first, min(articles, first + BATCH)):
            body = " ".join(rng.choice(bodies) for _ in range(6))
            texts.append((f"How to: {rng.choice(titles)}", body))
        with transaction.atomic():
            # Published; one in ten for the service desk only (internal), the rest public.
            created = Article.objects.bulk_create(
                Article(
                    title=title[:200],
                    audience=Audience.INTERNAL if (first + n + 1) % 10 == 0 else Audience.PUBLIC,
                    status=ArticleStatus.PUBLISHED,
                    owner=agents[0],
                    published_at=now,
                )
                for n, (title, _) in enumerate(texts)
            )
            rows = [
                (
                    "article",
                    article.pk,
                    False,
                    False,
                    article.status,
                    None,
                    _dt(now),
                    readers(tuple(article_readers(article))),
                    title,
                    clean_text(body),
                    _dt(now),
                )
                for article, (title, body) in zip(created, texts, strict=True)
            ]
            with connection.cursor() as cursor:
                cursor.executemany(insert, rows)
        progress("articles", min(articles, first + BATCH), articles, started)
    with connection.cursor() as cursor:
        # As autovacuum leaves a table that is written to (PostgreSQL: visibility map set, so
        # index-only scans read no rows); SQLite keeps no such map.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"requester": requesters[0], "agent": agents[0]}


def sharing_requester():
    """A requester of an organisation whose requesters see all its tickets (an MSP customer):
    one organisation's share of the tickets, 1 / ORGANIZATIONS of them, is their scope."""
    from opsdesk.accounts.models import Organization, User

    colleague = User.objects.get(username="p1")
    Organization.objects.filter(pk=colleague.organization_id).update(requesters_see_organization=True)
    return User.objects.get(pk=colleague.pk)


def make_queries(rng, titles, words, count: int) -> list[str]:
    """A mix people type: one word, two words, a prefix being typed, a phrase from a title."""
    queries = []
    for n in range(count):
        shape = n % 4
        if shape == 0:
            queries.append(rng.choice(words))
        elif shape == 1:
            queries.append(f"{rng.choice(words)} {rng.choice(words)}")
        elif shape == 2:
            word = rng.choice(words)
            queries.append(word[: max(3, len(word) - 2)])
        else:
            parts = rng.choice(titles).split()
            queries.append('"' + " ".join(parts[:2]) + '"' if len(parts) >= 2 else parts[0])
    return queries


def measure(scenario: str, user, queries: list[str], concurrency: int, *, kinds, others: bool = True) -> dict:
    from opsdesk.core.fulltext import Filters, KindScope, engine, parse_query
    from opsdesk.core.search import search_documents

    def full(query: str) -> float:
        start = time.perf_counter()
        if user is None:  # public articles: the count and the ranked page, as search_documents
            eng, parsed = engine(), parse_query(query)
            scope = KindScope(kind="article")
            if eng.count(parsed, scope, Filters()):
                eng.search(parsed, [scope], Filters(), limit=20)
        else:
            search_documents(user=user, query=query, kinds=kinds, count_other_kinds=others)
        return (time.perf_counter() - start) * 1000

    def raw(query: str) -> float:
        start = time.perf_counter()
        engine().raw_match_ids(parse_query(query), limit=20)
        return (time.perf_counter() - start) * 1000

    for q in queries[:5]:  # warm the caches
        full(q)
    if concurrency == 1:
        full_times, raw_times = [], []
        for q in queries:
            full_times.append(full(q))
            raw_times.append(raw(q))
    else:
        # As the server runs (opsdesk serve: worker processes, each its own connection), and
        # the searches apart from the bare engine queries: mixed in, those took most of the
        # two cores (a ranked scan of every match), and the searches were measured beside them.
        full_times = in_processes(full, queries, concurrency)
        raw_times = in_processes(raw, queries, concurrency)
    full_times.sort()
    raw_times.sort()
    return {
        "scenario": scenario,
        "c": concurrency,
        "p50": statistics.median(full_times),
        "p95": full_times[int(len(full_times) * 0.95) - 1],
        "raw_p50": statistics.median(raw_times),
        "raw_p95": raw_times[int(len(raw_times) * 0.95) - 1],
    }


def in_processes(timed, queries: list[str], concurrency: int) -> list[float]:
    """``timed(query)`` over the queries, in ``concurrency`` processes started together."""
    from django.db import connections

    # Each process opens its own connections: none, and no pool, may be inherited.
    for conn in connections.all():
        conn.close()
        if hasattr(conn, "close_pool"):  # PostgreSQL's
            conn.close_pool()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(concurrency), context.Queue()

    def work(chunk: list[str]) -> None:
        timed(queries[0])  # the process's connection opened, its caches warm (as a server's)
        barrier.wait()
        results.put([timed(q) for q in chunk])
        connections.close_all()

    processes = [context.Process(target=work, args=(queries[i::concurrency],)) for i in range(concurrency)]
    for process in processes:
        process.start()
    times = [t for _ in processes for t in results.get()]
    for process in processes:
        process.join()
    return times


def write_lag(agent, requester, rounds: int = 20) -> dict:
    from opsdesk.core.search import search_documents
    from opsdesk.tickets.services import ticket_create

    creates, visible = [], []
    for n in range(rounds):
        token = f"zqx{n}lagprobe{random.randrange(10**9)}"
        start = time.perf_counter()
        ticket_create(actor=requester, title=f"Lag probe {token}", description="bench")
        committed = time.perf_counter()
        while not search_documents(user=agent, query=token, kinds=("ticket",)).hits:
            if time.perf_counter() - committed > 5:
                break
        done = time.perf_counter()
        creates.append((committed - start) * 1000)
        visible.append((done - committed) * 1000)
    return {
        "create_p50": statistics.median(creates),
        "visible_p50": statistics.median(visible),
        "visible_max": max(visible),
    }


if __name__ == "__main__":
    sys.exit(main())
