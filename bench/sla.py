"""Business time: how many SLA due times one core computes per second, then the SLA clock
over a million open tickets (re-timing after a calendar edit, the warning/breach sweep).

    python bench/sla.py --no-database           # due times only, about 5 seconds
    python bench/sla.py --no-database --quick   # about 1 second

It compiles two calendars (Europe/Berlin office hours with a lunch break and Berlin's public
holidays; America/New_York 24×7), draws random starts over 2026 and spans of up to three working
days, and times ``business_time.add_business_minutes`` call by call in one thread, after one
warm-up pass that fills the per-date caches (the steady state of a running server). Beside it,
the same number of plain ``datetime + timedelta`` additions in UTC: the floor any due-time
computation is measured against. It prints both rates and the ratio. No database is involved.

Then the clock at scale, on a throw-away database (SQLite in a temporary data directory, or a
scratch PostgreSQL database beside the one named, dropped at the end), in a child process:

    python bench/sla.py                 # 1,000,000 open tickets on SQLite
    python bench/sla.py --quick         # 50,000 (well under two minutes)
    python bench/sla.py --database-url postgres://postgres@127.0.0.1:5432/test
    python bench/sla.py --tickets 200000

1. seeds a Berlin split-shift calendar with DE-BE holidays, one SLA policy (first response
   240, resolution 4,800 business minutes) and N open tickets, each with a running or paused
   resolution timer built by the clock's own ``measure`` (bench/sla_seed.py: bulk inserts in
   batches; one ticket driven through the real services first proves the rows identical);
2. the sweep: K timers have a warning due. Times one ``sla_sweep(batch=K)`` and its candidate
   query, prints the query's plan (the ``next_alert_at`` index) and the raw indexed SELECT,
   at N/10 tickets (rolled back) and at N, to show the sweep does not grow with N;
3. re-timing: adds a closure day to the calendar and times ``timers_retime(calendar_id=…)``
   over all N open timers, beside a one-statement UPDATE of the same rows' due_at, an
   executemany of N single-row UPDATEs, and ``measure`` alone on the same segments; then
   checks a sample of re-timed rows against ``measure``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

from opsdesk.portfolio.business_time import add_business_minutes, compile_schedule  # noqa: E402

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALENDARS = {
    "Berlin office 08–12, 13–17, DE-BE holidays": (
        SimpleNamespace(
            time_zone="Europe/Berlin",
            working_hours={
                **{day: [["08:00", "12:00"], ["13:00", "17:00"]] for day in DAYS[:5]},
                "sat": [],
                "sun": [],
            },
            holiday_country="DE",
            holiday_subdivision="BE",
            closures=["2026-12-24", "2026-12-31"],
            extra_working_days=[],
        ),
        3 * 480,
    ),
    "New York 24×7": (
        SimpleNamespace(
            time_zone="America/New_York",
            working_hours={day: [["00:00", "24:00"]] for day in DAYS},
            holiday_country="",
            holiday_subdivision="",
            closures=[],
            extra_working_days=[],
        ),
        3 * 1440,
    ),
}


def best_rate(function, cases, repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        began = time.perf_counter()
        for start, minutes in cases:
            function(start, minutes)
        best = max(best, len(cases) / (time.perf_counter() - began))
    return best


def due_time_rates(*, quick: bool, seed: int) -> dict[str, tuple[float, float]]:
    """Part 1: due times/s and plain additions/s per calendar (printed as they come)."""
    count, repeats = (20_000, 3) if quick else (100_000, 5)
    rng = random.Random(seed)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    rates = {}
    print(f"Python {platform.python_version()} on {platform.machine()}, one thread, {count:,} computations")
    for name, (calendar, longest) in CALENDARS.items():
        schedule = compile_schedule(calendar)
        cases = [
            (origin + timedelta(minutes=rng.randrange(365 * 1440)), rng.randrange(1, longest + 1))
            for _ in range(count)
        ]
        best_rate(lambda start, minutes, s=schedule: add_business_minutes(s, start, minutes), cases, 1)
        engine = best_rate(
            lambda start, minutes, s=schedule: add_business_minutes(s, start, minutes), cases, repeats
        )
        plain = best_rate(lambda start, minutes: start + timedelta(minutes=minutes), cases, repeats)
        print(f"\n{name} (spans of 1–{longest:,} business minutes)")
        print(f"  business time   {engine:>12,.0f} due times/s")
        print(f"  datetime + td   {plain:>12,.0f} additions/s (UTC, no calendar)")
        print(f"  ratio           {plain / engine:>12.1f}× slower than a plain addition")
        rates[name] = (engine, plain)
    return rates


# --- 2. the clock at scale, in a child process with the environment set before Django loads --
def _vendor_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def _timed(function):
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def _candidate_query():
    """The sweep's candidate query, exactly as ``sla_sweep`` builds it (keep the two alike)."""
    from opsdesk.sla.choices import TimerState
    from opsdesk.sla.models import SlaTimer

    def build(now, batch):
        return (
            SlaTimer.objects.filter(next_alert_at__lte=now)
            .exclude(state__in=[state for state in TimerState.values if state != TimerState.RUNNING])
            .select_related("policy__calendar", "ticket")
            .order_by("next_alert_at", "pk")[:batch]
        )

    return build


PROFILE = bool(os.environ.get("OPSDESK_BENCH_PROFILE"))


def _profiled(function):
    """Run under cProfile (OPSDESK_BENCH_PROFILE=1) and print the top functions to stderr."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return result


def _run_sql(connection, sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def sweep_figures(connection, *, due: int, rollback: bool) -> dict:
    """Time the candidate query (best of 5), the indexed id-only SELECT, and one sweep."""
    from django.db import transaction
    from sla_seed import NOW

    from opsdesk.sla.models import SlaAlert, SlaTimer
    from opsdesk.sla.services import sla_sweep

    sql, params = _candidate_query()(NOW, due).query.sql_with_params()
    table = SlaTimer._meta.db_table
    raw_sql = (
        f"SELECT id FROM {table} WHERE next_alert_at <= %s "
        f"AND state NOT IN ('paused', 'met', 'breached', 'cancelled') "
        f"ORDER BY next_alert_at, id LIMIT {due}"
    )
    raw_params = [connection.ops.adapt_datetimefield_value(NOW)]
    query = min(_timed(lambda: _run_sql(connection, sql, params))[0] for _ in range(5))
    raw = min(_timed(lambda: _run_sql(connection, raw_sql, raw_params))[0] for _ in range(5))
    rows = len(_run_sql(connection, raw_sql, raw_params))
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    plan = [" ".join(str(cell) for cell in line) for line in _run_sql(connection, explain + sql, params)]
    alerts_before = SlaAlert.objects.count()
    with transaction.atomic():
        seconds, recorded = _timed(lambda: sla_sweep(now=NOW, batch=due))
        left = SlaTimer.objects.filter(next_alert_at__lte=NOW, state="running").count()
        transaction.set_rollback(rollback)
    return {
        "query": query,
        "raw": raw,
        "rows": rows,
        "plan": plan,
        "sweep": seconds,
        "recorded": recorded,
        "left": left,
        "alerts": SlaAlert.objects.count() - alerts_before,
    }


def retime_figures(connection, *, objects: dict, count: int) -> dict:
    """Part 3: the raw limits, then the calendar edit and ``timers_retime`` over every open timer."""
    from django.db import transaction
    from sla_seed import NOW, THRESHOLDS, progress

    from opsdesk.portfolio.business_time import schedule_for
    from opsdesk.portfolio.models import BusinessCalendar
    from opsdesk.sla.clock import measure, next_alert
    from opsdesk.sla.models import SlaAlert, SlaTimer
    from opsdesk.sla.services import loaded_segments, timers_retime

    calendar = objects["calendar"]
    table = SlaTimer._meta.db_table
    open_rows = SlaTimer.objects.filter(calendar_id=calendar.pk, state__in=("running", "paused"))
    timers = open_rows.count()
    where = f"calendar_id = {calendar.pk} AND state IN ('running', 'paused')"

    # Raw 1: one UPDATE statement over the same rows' due_at.
    def one_statement():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET due_at = due_at WHERE {where}")
            return cursor.rowcount

    update_one, updated = _timed(one_statement)

    # Raw 2: read id and due_at, then N single-row UPDATEs by id (executemany in batches of
    # 2,000, a transaction each: the write pattern of timers_retime, without the measuring).
    def many_statements():
        last_id = done = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, due_at FROM {table} WHERE {where} AND id > %s ORDER BY id LIMIT 2000",
                    [last_id],
                )
                rows = cursor.fetchall()
            if not rows:
                return done
            last_id = rows[-1][0]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET due_at = %s WHERE id = %s",
                    [(due_at, pk) for pk, due_at in rows],
                )
            done += len(rows)

    update_many, _ = _timed(many_statements)
    # Pure: measure() on the stored segments of up to 50,000 timers, no database in the loop.
    sample = list(open_rows.order_by("pk").values_list("segments", flat=True)[:50_000])
    loaded = [loaded_segments(segments) for segments in sample]
    schedule = schedule_for(calendar)

    def pure():
        for segments in loaded:
            result = measure(
                segments=segments,
                final=None,
                stopped_at=None,
                target_minutes=4_800,
                schedule=schedule,
                thresholds=THRESHOLDS,
                now=NOW,
            )
            next_alert(result, (), THRESHOLDS)

    pure_seconds, _ = _timed(pure)
    pure_rate = len(loaded) / pure_seconds

    # The edit: the next two working days after NOW become closures (every running timer's due
    # time moves by two working days), then re-time the calendar's open timers.
    check_ids = list(open_rows.order_by("?").values_list("pk", flat=True)[:500])
    before = dict(SlaTimer.objects.filter(pk__in=check_ids).values_list("pk", "due_at"))
    BusinessCalendar.objects.filter(pk=calendar.pk).update(
        closures=["2026-03-05", "2026-03-06"], version=calendar.version + 1
    )
    calendar.refresh_from_db()
    print(f"bench: re-timing {timers:,} open timers after a calendar edit …", flush=True)
    started = time.perf_counter()
    done = [0]

    def report(rows: int) -> None:
        done[0] += rows
        if done[0] % 50_000 < rows or done[0] >= timers:
            progress(done[0], timers, started, "timers re-timed")

    run = lambda: timers_retime(calendar_id=calendar.pk, now=NOW, progress=report)  # noqa: E731
    retime_seconds, changed = _timed(lambda: _profiled(run) if PROFILE else run())
    # Check a sample against measure() on the edited calendar.
    edited = schedule_for(calendar)
    fired: dict[int, set[int]] = {}
    for timer_id, percent in SlaAlert.objects.filter(timer_id__in=check_ids).values_list(
        "timer_id", "percent"
    ):
        fired.setdefault(timer_id, set()).add(percent)
    wrong = moved = 0
    for timer in SlaTimer.objects.filter(pk__in=check_ids):
        result = measure(
            segments=loaded_segments(timer.segments),
            final=None,
            stopped_at=None,
            target_minutes=timer.target_minutes,
            schedule=edited,
            thresholds=THRESHOLDS,
            now=NOW,
        )
        percent, alert_at = next_alert(result, fired.get(timer.pk, ()), THRESHOLDS)
        expected = (result.state, result.elapsed_seconds, result.due_at, percent, alert_at)
        stored = (
            timer.state,
            timer.elapsed_seconds,
            timer.due_at,
            timer.next_alert_percent,
            timer.next_alert_at,
        )
        wrong += expected != stored
        moved += (
            timer.due_at is not None and before[timer.pk] is not None and timer.due_at != before[timer.pk]
        )
    running_sampled = sum(1 for pk in check_ids if before[pk] is not None)
    return {
        "timers": timers,
        "updated": updated,
        "changed": changed,
        "retime": retime_seconds,
        "update_one": update_one,
        "update_many": update_many,
        "pure_rate": pure_rate,
        "pure_count": len(loaded),
        "sampled": len(check_ids),
        "wrong": wrong,
        "moved": moved,
        "running_sampled": running_sampled,
    }


def database_part(*, count: int, due: int, due_rate: float, command: str) -> None:
    """Seed, sweep, re-time, print. Runs in the child, with the data directory set."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    import django

    django.setup()
    import sla_seed
    from django.core.management import call_command
    from django.db import connection

    load_before = os.getloadavg()
    started = time.monotonic()
    call_command("migrate", "--no-input", verbosity=0)
    objects = sla_seed.setup()
    reason = sla_seed.sanity_check(objects)
    print("bench: a ticket driven through the services has the very timer row the seeder builds", flush=True)
    seeder = sla_seed.Seeder(objects, reason=reason, due=due)
    tenth = max(due, count // 10)
    print(f"bench: bulk-loading {tenth:,} of {count:,} open tickets with their timers …", flush=True)
    load = seeder.load(tenth, report=sla_seed.progress)
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"bench: sweep at {tenth:,} open timers (rolled back) …", flush=True)
    small = sweep_figures(connection, due=due, rollback=True)
    print(f"bench: bulk-loading the other {count - tenth:,} …", flush=True)
    rest = lambda: seeder.load(count, report=sla_seed.progress)  # noqa: E731
    load += _profiled(rest) if PROFILE else rest()
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"bench: sweep at {count:,} open timers …", flush=True)
    large = sweep_figures(connection, due=due, rollback=False)
    retime = retime_figures(connection, objects=objects, count=count)
    load_after = os.getloadavg()

    rate = retime["timers"] / retime["retime"]
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    met = "met" if rate * 60 >= 1_000_000 else "NOT met"
    lines = [
        "",
        "OpsDesk SLA clock at scale",
        f"  command   {command}",
        f"  machine   {machine}, Python {platform.python_version()}",
        f"  database  {_vendor_version(connection)}",
        f"  data      {count:,} open tickets, one resolution timer each ({count - due:,} created in the "
        f"last 3 days, {due:,} nine to ten days ago with a warning due)",
        f"            loaded in {load:.0f} s ({count / load:,.0f} tickets+timers/s, executemany)",
        f"  run       {time.monotonic() - started:.0f} s; load average (1 min) {load_before[0]:.2f} "
        f"before, {load_after[0]:.2f} after",
        "",
        f"  Re-timing {retime['timers']:,} open timers after a calendar edit (two closure days)",
        f"    {'timers_retime(calendar_id=…)':<40} {retime['retime']:>8.2f} s {rate:>10,.0f} timers/s",
        f"    {'  per million (target ≤ 60 s)':<40} {1_000_000 / rate:>8.0f} s  {met}",
        f"    {'raw: one UPDATE … SET due_at = due_at':<40} {retime['update_one']:>8.2f} s "
        f"{retime['updated'] / retime['update_one']:>10,.0f} rows/s",
        f"    {'raw: SELECT + executemany UPDATE by id':<40} {retime['update_many']:>8.2f} s "
        f"{retime['timers'] / retime['update_many']:>10,.0f} rows/s",
        f"    {'pure: measure() on stored segments':<40} {'':>10} {retime['pure_rate']:>10,.0f} timers/s "
        f"({retime['pure_count']:,}, no database)",
        f"    {'pure: one due time (part 1, Berlin)':<40} {'':>10} {due_rate:>10,.0f} due times/s",
        f"    {'ratio re-time ÷ one-statement UPDATE':<40} {retime['retime'] / retime['update_one']:>8.1f}×",
        f"    {'ratio re-time ÷ executemany UPDATE':<40} {retime['retime'] / retime['update_many']:>8.1f}×",
        f"    {'ratio pure measure() ÷ re-time rate':<40} {retime['pure_rate'] / rate:>8.1f}×",
        f"    {'ratio one due time ÷ re-time rate':<40} {due_rate / rate:>8.1f}×",
        f"    check: {retime['changed']:,} re-timed; of {retime['sampled']} sampled, "
        f"{retime['wrong']} differ from measure() on the edited calendar;",
        f"           {retime['moved']} of {retime['running_sampled']} sampled due times moved",
        "",
        f"  Sweep with {due:,} warnings due (batch {due:,})",
        f"    {'open timers':<44} {tenth:>12,} {count:>12,}",
    ]
    for label, key, scale in (
        ("sla_sweep(now, batch=K) (s)", "sweep", 1),
        ("  its candidate query, best of 5 (ms)", "query", 1000),
        ("  raw indexed SELECT id … LIMIT K (ms)", "raw", 1000),
    ):
        lines.append(f"    {label:<44} {small[key] * scale:>12.3f} {large[key] * scale:>12.3f}")
    lines += [
        f"    {'alerts recorded':<44} {small['recorded']:>12,} {large['recorded']:>12,}",
        f"    {'warnings still due after the sweep':<44} {small['left']:>12,} {large['left']:>12,}",
        f"    {'sweep ÷ raw indexed SELECT':<44} {small['sweep'] / small['raw']:>11.0f}× "
        f"{large['sweep'] / large['raw']:>11.0f}×",
        f"    {'sweep at N ÷ sweep at N/10':<44} {large['sweep'] / small['sweep']:>12.2f}",
    ]
    print("\n".join(lines))
    print("    plan of the candidate query at N:")
    for line in large["plan"]:
        print(f"      {line}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer computations, 50,000 tickets")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--tickets", type=int, help="open tickets (default 1,000,000; quick 50,000)")
    parser.add_argument("--due", type=int, help="timers with a warning due (default 1,000; quick 250)")
    parser.add_argument(
        "--database-url",
        default="",
        help="bench PostgreSQL: a scratch database is created on this server and dropped after",
    )
    parser.add_argument("--no-database", action="store_true", help="the due-time part only")
    parser.add_argument("--database-part", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--due-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--command", default="", help=argparse.SUPPRESS)
    options = parser.parse_args()
    count = options.tickets or (50_000 if options.quick else 1_000_000)
    due = options.due or (250 if options.quick else 1_000)
    if options.database_part:
        database_part(count=count, due=due, due_rate=options.due_rate, command=options.command)
        return 0
    command = "python bench/sla.py" + "".join(f" {shlex.quote(arg)}" for arg in sys.argv[1:])
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    rates = due_time_rates(quick=options.quick, seed=options.seed)
    if options.no_database:
        return 0
    berlin = next(iter(rates.values()))[0]
    print(flush=True)
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-") as tmp:
        from api import bench_env, drop_database, scratch_database

        env = bench_env(Path(tmp))
        scratch_name = ""
        if options.database_url:
            env["OPSDESK_DATABASE_URL"], scratch_name = scratch_database(options.database_url)
        try:
            child = [
                sys.executable,
                __file__,
                "--database-part",
                "--tickets",
                str(count),
                "--due",
                str(due),
                "--due-rate",
                str(berlin),
                "--command",
                command,
            ]
            subprocess.run(child, env=env, check=True, cwd=BENCH.parent)
        finally:
            if scratch_name:
                drop_database(options.database_url, scratch_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
