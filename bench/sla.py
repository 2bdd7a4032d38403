"""Business time: how many SLA due times one core computes per second.

    python bench/sla.py             # about 5 seconds
    python bench/sla.py --quick     # about 1 second

It compiles two calendars (Europe/Berlin office hours with a lunch break and Berlin's public
holidays; America/New_York 24×7), draws random starts over 2026 and spans of up to three working
days, and times ``business_time.add_business_minutes`` call by call in one thread, after one
warm-up pass that fills the per-date caches (the steady state of a running server). Beside it,
the same number of plain ``datetime + timedelta`` additions in UTC: the floor any due-time
computation is measured against. It prints both rates and the ratio. No database is involved.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from opsdesk.portfolio.business_time import add_business_minutes, compile_schedule

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer computations (about 1 s)")
    parser.add_argument("--seed", type=int, default=12)
    options = parser.parse_args()
    count, repeats = (20_000, 3) if options.quick else (100_000, 5)
    rng = random.Random(options.seed)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
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


if __name__ == "__main__":
    main()
