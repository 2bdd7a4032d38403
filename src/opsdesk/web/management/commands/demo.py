"""``opsdesk demo``: a small, realistic IT organisation to try OpsDesk with. Idempotent: run it
again and it adds only what is missing (and makes the demo logins work again)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel
from opsdesk.web.demo import mail, people, portfolio, sla, tickets


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        with transaction.atomic(), acting(channel=Channel.CLI):
            admin = people.load_admin()
            with acting(actor=admin):
                people.load_people(admin)
                portfolio.load_portfolio(admin)
                tickets.load_tickets(admin)
                mail.load_mailboxes(admin)
                timed = sla.load_service_levels(admin, progress=self._progress)
        if timed:
            self.stdout.write(f"\nTimed {timed:,} tickets against the demo service levels.")
        self.stdout.write(self.style.SUCCESS("Demo data is loaded. Sign in at http://127.0.0.1:8000/ as:"))
        people.print_logins(self.stdout.write)

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        self.stdout.write(
            f"\rTiming tickets against the SLAs [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
            ending="",
        )
        self.stdout.flush()
