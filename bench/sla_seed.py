"""Seeding for the SLA benchmark (bench/sla.py): N open tickets, each with a running or paused
resolution timer exactly as the clock would have stored it, inserted with ``bulk_create``.

Creating the tickets through ``ticket_create`` costs milliseconds each (timeline, audit, the
clock itself): a million would take hours. So the rows are built here, and ``sanity_check``
proves they are the clock's own: one ticket is driven through the real services (created,
assigned, pending on the requester for two hours, answered) and its stored timer must equal,
field by field, the row this module builds for the same instants. Runs inside Django (the
caller has set it up); nothing here is imported by OpsDesk itself.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPLIT_SHIFT = {
    **{day: [["08:00", "12:00"], ["13:00", "17:00"]] for day in DAYS[:5]},
    "sat": [],
    "sun": [],
}
# The benchmark's "now": a Wednesday, 14:30 in Berlin. Fixed, so every run times the same work.
NOW = datetime(2026, 3, 4, 13, 30, tzinfo=UTC)
FIRST_RESPONSE_MINUTES = 240
RESOLUTION_MINUTES = 4_800  # ten working days of the split shift
THRESHOLDS = [50, 75, 90, 100]
BATCH = 5_000
RUN_REASON, PAUSE_REASON = "", "pending: requester"
# Shapes of a timer's history: running since creation; running again after two hours pending
# on the requester; pending on the requester now (paused).
RUNNING, RESUMED, PAUSED = "running", "resumed", "paused"
SHAPE_WEIGHTS = {RUNNING: 5, RESUMED: 3, PAUSED: 2}


def segments_for(shape: str, created: datetime) -> list[list]:
    """The wall-clock segments of one shape, as the clock records them (datetimes)."""
    if shape == RUNNING:
        return [[created, None, "running", RUN_REASON]]
    pause = created + timedelta(minutes=60)
    if shape == PAUSED:
        return [[created, pause, "running", RUN_REASON], [pause, None, "paused", PAUSE_REASON]]
    resume = pause + timedelta(hours=2)
    return [
        [created, pause, "running", RUN_REASON],
        [pause, resume, "paused", PAUSE_REASON],
        [resume, None, "running", RUN_REASON],
    ]


def timer_fields(*, segments: list[list], schedule, now: datetime) -> dict:
    """The stored fields of an open resolution timer with these segments, measured by the
    clock's own ``measure`` (no alert fired yet)."""
    from opsdesk.sla.clock import measure, next_alert
    from opsdesk.sla.services import _stored_segments

    result = measure(
        segments=segments,
        final=None,
        stopped_at=None,
        target_minutes=RESOLUTION_MINUTES,
        schedule=schedule,
        thresholds=THRESHOLDS,
        now=now,
    )
    percent, alert_at = next_alert(result, (), THRESHOLDS)
    return {
        "target_minutes": RESOLUTION_MINUTES,
        "state": result.state,
        "started_at": segments[0][0],
        "stopped_at": None,
        "running_since": result.running_since,
        "elapsed_seconds": result.elapsed_seconds,
        "paused_seconds": result.paused_seconds,
        "due_at": result.due_at,
        "breached": result.breached,
        "breached_at": result.breached_at,
        "next_alert_at": alert_at,
        "next_alert_percent": percent,
        "segments": _stored_segments(segments),
    }


FIELDS = (
    "target_minutes",
    "state",
    "started_at",
    "stopped_at",
    "running_since",
    "elapsed_seconds",
    "paused_seconds",
    "due_at",
    "breached",
    "breached_at",
    "next_alert_at",
    "next_alert_percent",
    "segments",
)


def setup(*, now: datetime = NOW) -> dict:
    """The calendar, the policy and its targets, a requester, an agent and a team."""
    from django.contrib.auth.hashers import make_password

    from opsdesk.accounts.choices import Role
    from opsdesk.accounts.models import Team, TeamMembership, User
    from opsdesk.core.audit import acting
    from opsdesk.core.choices import Channel
    from opsdesk.portfolio.models import BusinessCalendar
    from opsdesk.sla.choices import Metric, PolicyKind
    from opsdesk.sla.models import SlaPolicy, SlaTarget

    with acting(channel=Channel.CLI):
        password = make_password("bench-password-not-for-login")
        requester = User.objects.create(
            username="bench-requester", email="req@example.com", password=password, role=Role.REQUESTER
        )
        agent = User.objects.create(
            username="bench-agent", email="agent@example.com", password=password, role=Role.AGENT
        )
        team = Team.objects.create(name="Service desk", email="desk@example.com")
        TeamMembership.objects.create(team=team, user=agent)
        calendar = BusinessCalendar.objects.create(
            name="Berlin office",
            time_zone="Europe/Berlin",
            working_hours=SPLIT_SHIFT,
            holiday_country="DE",
            holiday_subdivision="BE",
        )
        policy = SlaPolicy.objects.create(
            name="Standard", kind=PolicyKind.SLA, calendar=calendar, thresholds=THRESHOLDS
        )
        SlaTarget.objects.create(policy=policy, metric=Metric.FIRST_RESPONSE, minutes=FIRST_RESPONSE_MINUTES)
        SlaTarget.objects.create(policy=policy, metric=Metric.RESOLUTION, minutes=RESOLUTION_MINUTES)
    return {"requester": requester, "agent": agent, "team": team, "calendar": calendar, "policy": policy}


def sanity_check(objects: dict) -> str:
    """Drive one ticket through the real services and compare its resolution timer with the
    row ``timer_fields`` builds for the same instants; then re-time a built row and check that
    nothing moves. Everything is rolled back. Returns the policy's "why it applies" text."""
    import time_machine
    from django.db import transaction

    from opsdesk.portfolio.business_time import schedule_for
    from opsdesk.sla.choices import Metric
    from opsdesk.sla.models import SlaTimer
    from opsdesk.sla.services import timers_recompute, timers_retime
    from opsdesk.tickets import services
    from opsdesk.tickets.choices import Status

    created = NOW - timedelta(days=1)
    schedule = schedule_for(objects["calendar"])
    with transaction.atomic():
        with time_machine.travel(created, tick=False):
            ticket = services.ticket_create(actor=objects["requester"], title="Printer on fire")
        with time_machine.travel(created + timedelta(minutes=30), tick=False):
            services.ticket_assign(
                actor=objects["agent"], ticket=ticket, team=objects["team"], assignee=objects["agent"]
            )
        with time_machine.travel(created + timedelta(minutes=60), tick=False):
            services.ticket_transition(
                actor=objects["agent"], ticket=ticket, to=Status.PENDING, pending_reason="requester"
            )
        with time_machine.travel(created + timedelta(minutes=180), tick=False):
            services.ticket_reply(actor=objects["requester"], ticket=ticket, body="Here is the log.")
        timers_recompute(ticket=ticket, now=NOW)
        real = SlaTimer.objects.get(ticket=ticket, metric=Metric.RESOLUTION)
        built = timer_fields(segments=segments_for(RESUMED, created), schedule=schedule, now=NOW)
        differences = {
            name: (getattr(real, name), value)
            for name, value in built.items()
            if getattr(real, name) != value
        }
        if differences:
            raise SystemExit(f"bench: the built timer row differs from the clock's: {differences}")
        reason = real.reason
        # A built row re-timed by the service must come out unchanged.
        before = {name: getattr(real, name) for name in FIELDS}
        timers_retime(timers=SlaTimer.objects.filter(pk=real.pk), now=NOW)
        real.refresh_from_db()
        moved = {
            name: (value, getattr(real, name))
            for name, value in before.items()
            if getattr(real, name) != value
        }
        if moved:
            raise SystemExit(f"bench: timers_retime moved an unchanged timer: {moved}")
        transaction.set_rollback(True)
    return reason


def progress(done: int, total: int, started: float, what: str = "tickets + timers") -> None:
    width = 40
    filled = int(width * done / total) if total else width
    rate = done / max(1e-9, time.perf_counter() - started)
    end = "\n" if done >= total else ""
    print(
        f"\r  [{'#' * filled}{' ' * (width - filled)}] {done:>10,}/{total:,} {what}  {rate:>9,.0f}/s",
        end=end,
        flush=True,
    )


class Seeder:
    """Inserts tickets with their timers in batches; the first ``due`` tickets have a warning
    due before NOW (created nine to ten days earlier: 60–77 % of the target used), the others
    were created in the last three days (under 45 %), so their next warning is still ahead.

    Rows go in with ``executemany`` of prepared tuples (a template row per model, prepared by
    the fields themselves once, and one prepared timer per distinct history): building a
    million model instances for ``bulk_create`` alone takes longer than the inserts."""

    def __init__(self, objects: dict, *, reason: str, due: int, seed: int = 5) -> None:
        from django.db import connection

        from opsdesk.portfolio.business_time import schedule_for
        from opsdesk.sla.choices import Metric, PolicyKind
        from opsdesk.sla.models import SlaTimer
        from opsdesk.tickets.choices import Channel, Status, TicketType
        from opsdesk.tickets.models import Ticket

        self.objects = objects
        self.reason = reason
        self.due = due
        self.rng = random.Random(seed)
        self.schedule = schedule_for(objects["calendar"])
        self.templates: dict[tuple[str, int], tuple[dict, dict]] = {}
        self.done = 0
        self.connection = connection
        self.ticket = _Table(
            Ticket(
                type=TicketType.INCIDENT,
                requester=objects["requester"],
                status=Status.IN_PROGRESS,
                channel=Channel.PORTAL,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        self.timer = _Table(
            SlaTimer(
                policy=objects["policy"],
                calendar=objects["calendar"],
                kind=PolicyKind.SLA,
                metric=Metric.RESOLUTION,
                cycle=1,
                reason=reason,
                target_minutes=RESOLUTION_MINUTES,
                state="running",
                started_at=NOW,
                updated_at=NOW,
            )
        )

    def template(self, shape: str, minutes_ago: int) -> tuple[dict, dict]:
        """The prepared column values of a ticket and its timer with this history."""
        from opsdesk.sla.choices import TicketSlaState, TimerState
        from opsdesk.tickets.choices import Status

        key = (shape, minutes_ago)
        if key not in self.templates:
            created = NOW - timedelta(minutes=minutes_ago)
            values = timer_fields(segments=segments_for(shape, created), schedule=self.schedule, now=NOW)
            paused = values["state"] == TimerState.PAUSED
            ticket = {
                "status": Status.PENDING if paused else Status.IN_PROGRESS,
                "pending_reason": "requester" if paused else "",
                "created_at": created,
                "updated_at": created,
                "sla_due_at": values["due_at"],
                "sla_state": TicketSlaState.PAUSED if paused else TicketSlaState.ON_TRACK,
            }
            self.templates[key] = (self.ticket.prepare(ticket), self.timer.prepare(values))
        return self.templates[key]

    def load(self, upto: int, *, report=None) -> float:
        """Insert tickets (and timers) until there are ``upto``; returns the seconds taken."""
        from django.core.management.color import no_style
        from django.db import transaction

        from opsdesk.sla.models import SlaTimer
        from opsdesk.tickets.models import Ticket

        shapes, weights = list(SHAPE_WEIGHTS), list(SHAPE_WEIGHTS.values())
        started = time.perf_counter()
        first = self.done
        while self.done < upto:
            tickets, timers = [], []
            for n in range(self.done, min(upto, self.done + BATCH)):
                if n < self.due:
                    shape, minutes_ago = RUNNING, self.rng.randrange(9 * 1440, 10 * 1440)
                else:
                    shape = self.rng.choices(shapes, weights)[0]
                    minutes_ago = self.rng.randrange(240, 3 * 1440)
                ticket, timer = self.template(shape, minutes_ago)
                pk = n + 1
                tickets.append(
                    self.ticket.row(
                        ticket, id=pk, number=f"INC{n + 1_000_001:07d}", title=f"Benchmark ticket {n}"
                    )
                )
                timers.append(self.timer.row(timer, id=pk, ticket_id=pk))
            with transaction.atomic(), self.connection.cursor() as cursor:
                cursor.executemany(self.ticket.insert, tickets)
                cursor.executemany(self.timer.insert, timers)
            self.done += len(tickets)
            if report is not None:
                report(self.done - first, upto - first, started)
        with self.connection.cursor() as cursor:  # the ids were given: move the sequences on
            for sql in self.connection.ops.sequence_reset_sql(no_style(), [Ticket, SlaTimer]):
                cursor.execute(sql)
        return time.perf_counter() - started


class _Table:
    """INSERT of every concrete column of a model, from a prepared template instance."""

    def __init__(self, instance) -> None:
        from django.db import connection

        self.connection = connection
        self.fields = list(instance._meta.concrete_fields)
        self.index = {field.attname: n for n, field in enumerate(self.fields)}
        self.base = [self._prep(field, getattr(instance, field.attname)) for field in self.fields]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.insert = f"INSERT INTO {quote(instance._meta.db_table)} ({columns}) VALUES ({marks})"

    def _prep(self, field, value):
        return field.get_db_prep_save(value, self.connection)

    def prepare(self, values: dict) -> dict:
        fields = {field.attname: field for field in self.fields}
        return {self.index[name]: self._prep(fields[name], value) for name, value in values.items()}

    def row(self, prepared: dict, **raw) -> tuple:
        values = list(self.base)
        for position, value in prepared.items():
            values[position] = value
        for name, value in raw.items():
            values[self.index[name]] = value
        return tuple(values)
