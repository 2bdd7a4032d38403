"""Demo service levels: a standard SLA on Berlin office hours with targets per priority, a
24×7 SLA for the critical infrastructure services, an OLA for Network Operations and a UC with
Fabrikam Networks; then every demo ticket is timed from its own history, so the queues show
time left and the reports have a year of figures."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from opsdesk.accounts.models import Team, User
from opsdesk.portfolio.models import BusinessCalendar, Provider, Service
from opsdesk.sla.models import SlaPolicy
from opsdesk.sla.selectors import PolicyBook
from opsdesk.sla.services import policy_save, target_save, timers_recompute
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import escalation_rule_save

# priority → (first response, resolution) in business minutes
STANDARD = {1: (30, 240), 2: (60, 480), 3: (120, 1200), 4: (240, 2400), 5: (480, 4800)}
AROUND_THE_CLOCK = {1: (15, 120), 2: (30, 240)}
CRITICAL_SERVICES = ("Network", "Firewall & Security Gateway", "Identity & Access", "E-mail & Calendar")


def _targets(admin: User, policy: SlaPolicy, table: dict[int, tuple[int, int]]) -> None:
    for priority, (first, resolution) in table.items():
        target_save(
            actor=admin,
            data={"policy": policy, "metric": "first_response", "priority": priority, "minutes": first},
        )
        target_save(
            actor=admin,
            data={"policy": policy, "metric": "resolution", "priority": priority, "minutes": resolution},
        )


def load_service_levels(admin: User, progress: Callable[[int, int], None] | None = None) -> int:
    """Create the demo policies once and time every ticket; returns the tickets timed."""
    if SlaPolicy.objects.exists():
        return 0
    calendars = {calendar.name: calendar for calendar in BusinessCalendar.objects.all()}
    office, always = calendars.get("Berlin office hours"), calendars.get("24×7")
    if office is None or always is None:
        return 0
    standard = policy_save(
        actor=admin,
        data={
            "name": "Standard support",
            "description": "What every employee can expect: office hours, targets by priority.",
            "kind": "sla",
            "calendar": office,
            "position": 100,
        },
    )
    _targets(admin, standard, STANDARD)
    critical = policy_save(
        actor=admin,
        data={
            "name": "Critical infrastructure 24×7",
            "description": "Outages of the network, identity and mail are worked around the clock.",
            "kind": "sla",
            "calendar": always,
            "priorities": [1, 2],
            "services": list(Service.objects.filter(name__in=CRITICAL_SERVICES)),
            "position": 10,
        },
    )
    _targets(admin, critical, AROUND_THE_CLOCK)
    network = Team.objects.filter(name="Network Operations").first()
    if network is not None:
        ola = policy_save(
            actor=admin,
            data={"name": "Network Operations OLA", "kind": "ola", "calendar": office, "team": network},
        )
        target_save(actor=admin, data={"policy": ola, "metric": "first_response", "minutes": 60})
        target_save(actor=admin, data={"policy": ola, "metric": "resolution", "minutes": 960})
    fabrikam = Provider.objects.filter(name="Fabrikam Networks").first()
    if fabrikam is not None:
        uc = policy_save(
            actor=admin,
            data={"name": "Fabrikam Networks UC", "kind": "uc", "calendar": always, "provider": fabrikam},
        )
        target_save(actor=admin, data={"policy": uc, "metric": "resolution", "minutes": 480})
    escalation_rule_save(
        actor=admin,
        data={
            "name": "90 % of the resolution target used: tell the lead",
            "kind": "hierarchical",
            "position": 30,
            "is_active": False,
            "conditions": [{"name": "sla_threshold", "params": {"percent": 90, "metric": ["resolution"]}}],
        },
    )
    return _time_every_ticket(progress)


def _time_every_ticket(progress: Callable[[int, int], None] | None) -> int:
    book = PolicyBook.load()
    tickets = Ticket.objects.select_related("service", "organization", "category").order_by("pk")
    total, done = tickets.count(), 0
    last_id = 0
    while True:
        batch = list(tickets.filter(pk__gt=last_id)[:500])
        if not batch:
            return done
        with transaction.atomic():
            for ticket in batch:
                timers_recompute(ticket=ticket, book=book)
        last_id, done = batch[-1].pk, done + len(batch)
        if progress is not None:
            progress(done, total)
