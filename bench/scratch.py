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
    name: str, *, script: str, postgres_url: str, child_args: list[str], prefix: str, keep: bool = False
) -> dict:
    """Run ``script --child <name> <child_args>`` against a scratch database of engine ``name``
    (``sqlite`` or ``postgres``); echo its lines and return its figures (the last line, JSON)."""
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
    command = [sys.executable, script, "--child", name, *child_args]
    print(f"\n== {name}: {' '.join(command[1:])}", flush=True)
    try:
        output = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    finally:
        if scratch:
            import psycopg

            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        if keep:
            print(f"   kept {data_dir}", flush=True)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    lines = output.strip().splitlines()
    print("\n".join(lines[:-1]))
    return json.loads(lines[-1])
