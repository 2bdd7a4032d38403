"""SQLite as shipped (WAL, IMMEDIATE transactions, busy timeout) takes concurrent writers
without "database is locked": many threads write through the real services at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.config.test_cli import opsdesk, opsdesk_env

pytestmark = pytest.mark.xdist_group("cli")

WRITERS = textwrap.dedent(
    """
    import threading
    from django.db import connection
    from opsdesk.accounts.choices import Role
    from opsdesk.accounts.models import Location, User
    from opsdesk.core.services import record_create, record_update

    admin = User.objects.create_user(username="admin", role=Role.ADMIN)
    errors = []

    def write(worker):
        try:
            for n in range(40):
                site = record_create(model=Location, actor=admin, data={"name": f"w{worker}-{n}"})
                # A read followed by a write in one transaction: the pattern that fails with
                # "database is locked" under SQLite's default deferred transactions.
                record_update(instance=site, actor=admin, data={"city": "Berlin"}, expected_version=1)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("journal", connection.cursor().execute("PRAGMA journal_mode").fetchone()[0])
    print("errors", len(errors), errors[:3])
    print("sites", Location.objects.filter(name__startswith="w", city="Berlin").count())
    """
)


def test_eight_concurrent_writers_never_hit_database_is_locked(tmp_path):
    # A migrated database is all the writers need (the demo would only add minutes).
    assert opsdesk(tmp_path, "manage", "migrate", "--no-input").returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "opsdesk", "manage", "shell", "-c", WRITERS],
        env=opsdesk_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines() if " " in line)
    assert lines["journal"] == "wal"
    assert lines["errors"].startswith("0 "), lines["errors"]
    assert lines["sites"] == "320"
