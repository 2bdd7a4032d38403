"""``opsdesk demo``: a small, realistic IT organisation to try OpsDesk with. Idempotent: run it
again and it adds only what is missing (and makes the demo logins work again)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel
from opsdesk.core.search import reindex
from opsdesk.web.demo import catalog, knowledge, learning, mail, people, portfolio, sla, tickets


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        with transaction.atomic(), acting(channel=Channel.CLI):
            admin = people.load_admin()
            with acting(actor=admin):
                people.load_people(admin)
                portfolio.load_portfolio(admin)
                added = tickets.load_tickets(admin)
                mail.load_mailboxes(admin)
                knowledge.load_articles(admin)
                learning.load_learning(admin)
                catalog.load_catalog(admin)
                timed = sla.load_service_levels(admin, progress=self._progress)
                if added:
                    # The history was bulk-loaded past the index's save hooks: index it once.
                    for kind, done, total in reindex():
                        self._progress(done, total, f"Indexing {kind}s for search")
        if timed:
            self.stdout.write(f"\nTimed {timed:,} tickets against the demo service levels.")
        self.stdout.write(self.style.SUCCESS("Demo data is loaded. Sign in at http://127.0.0.1:8000/ as:"))
        people.print_logins(self.stdout.write)

    def _progress(self, done: int, total: int, label: str = "Timing tickets against the SLAs") -> None:
        width = 30
        filled = width * done // max(total, 1)
        self.stdout.write(
            f"\r{label:<34} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}", ending=""
        )
        self.stdout.flush()
