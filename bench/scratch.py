"""Run one engine's half of a benchmark in a child process on a throw-away database: a fresh
data directory (SQLite) or a scratch PostgreSQL database beside the one named, dropped at the
end whatever happens. The child prints progress lines, then one JSON line with its figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse


def run_engine(
    name: str,
    *,
    script: str,
    postgres_url: str,
    child_args: list[str],
    prefix: str,
    keep: bool = False,
    reuse: str | None = None,
) -> dict:
    """Run ``script --child <name> <child_args>`` against a scratch database of engine ``name``
    (``sqlite`` or ``postgres``); echo its lines and return its figures (the last line, JSON).

    ``keep`` leaves the database in place (the SQLite data directory, the PostgreSQL database)
    and prints where it is; ``reuse`` names one kept earlier (that directory, that database),
    which is then neither created nor removed, and the child is told ``--seeded``."""
    if reuse:
        return _run_on_kept(
            name, script=script, postgres_url=postgres_url, child_args=child_args, reuse=reuse
        )
    data_dir = tempfile.mkdtemp(prefix=f"{prefix.replace('_', '-')}-")
    env = {
        **os.environ,
        "OPSDESK_DATA_DIR": data_dir,
        "OPSDESK_DEBUG": "0",
        "OPSDESK_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "opsdesk.config.settings",
    }
    env.pop("OPSDESK_DATABASE_URL", None)
    scratch = None
    if name == "postgres":
        import psycopg

        scratch = f"{prefix}_{os.getpid()}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        parts = urllib.parse.urlsplit(postgres_url)
        env["OPSDESK_DATABASE_URL"] = urllib.parse.urlunsplit(parts._replace(path=f"/{scratch}"))
    try:
        return _run_child(name, script, child_args, env)
    finally:
        if keep:
            print(f"   kept: --reuse-{name} {scratch or data_dir}", flush=True)
        else:
            if scratch:
                import psycopg

                with psycopg.connect(postgres_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            shutil.rmtree(data_dir, ignore_errors=True)


def _run_on_kept(name: str, *, script: str, postgres_url: str, child_args: list[str], reuse: str) -> dict:
    env = {
        **os.environ,
        "OPSDESK_DEBUG": "0",
        "OPSDESK_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "opsdesk.config.settings",
    }
    env.pop("OPSDESK_DATABASE_URL", None)
    if name == "postgres":
        env["OPSDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="opsdesk-bench-")
        parts = urllib.parse.urlsplit(postgres_url)
        env["OPSDESK_DATABASE_URL"] = urllib.parse.urlunsplit(parts._replace(path=f"/{reuse}"))
    else:
        env["OPSDESK_DATA_DIR"] = reuse
    return _run_child(name, script, [*child_args, "--seeded"], env)


def _run_child(name: str, script: str, child_args: list[str], env: dict) -> dict:
    command = [sys.executable, script, "--child", name, *child_args]
    print(f"\n== {name}: {' '.join(command[1:])}", flush=True)
    output = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    lines = output.strip().splitlines()
    print("\n".join(lines[:-1]))
    return json.loads(lines[-1])
