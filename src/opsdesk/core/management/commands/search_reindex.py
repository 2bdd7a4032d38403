"""Rebuild the full-text search index from the records: after an upgrade, a restore, or writes
made outside the services (raw SQL, ``QuerySet.update``)."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from opsdesk.core.fulltext import engine
from opsdesk.core.search import reindex, targets


class Command(BaseCommand):
    help = "Rebuild the full-text search index (every registered kind, or those named with --kind)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            action="append",
            default=[],
            help="Only this kind (ticket, problem, article…); repeatable.",
        )

    def handle(self, *args, kind: list[str], verbosity: int = 1, **options):
        known = sorted(t.kind for t in targets())
        unknown = sorted(set(kind) - set(known))
        if unknown:
            raise CommandError(
                f"Unknown kind {', '.join(unknown)}; the registered kinds are: {', '.join(known)}."
            )
        started = time.monotonic()
        indexed = 0
        interactive = sys.stdout.isatty()
        # One transaction per run: searches see the old index until the new one is complete.
        with transaction.atomic():
            for name, done, total in reindex(kinds=kind or None):
                if verbosity:
                    self._progress(name, done, total, final=done == total, interactive=interactive)
                if done == total:
                    indexed += total
        indexed_in = time.monotonic() - started
        engine().optimize()
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {indexed:,} records in {indexed_in:.1f} s"
                f" and optimised the index in {time.monotonic() - started - indexed_in:.1f} s."
            )
        )

    def _progress(self, kind: str, done: int, total: int, *, final: bool, interactive: bool) -> None:
        width = 30
        filled = width if not total else int(width * done / total)
        line = f"{kind:<14} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"
        if interactive:
            self.stdout.write("\r" + line, ending="\n" if final else "")
            self.stdout.flush()
        elif final:
            self.stdout.write(line)
