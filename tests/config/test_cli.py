"""The ``opsdesk`` command, run as a user runs it: a real process on a fresh data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from opsdesk.web.demo import people, tickets

pytestmark = pytest.mark.xdist_group("cli")


def opsdesk_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPSDESK_")}
    # The browser tests relax Django's async safety in this process; a real deployment never does.
    for inherited in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(inherited, None)
    env.update({"OPSDESK_DATA_DIR": str(data_dir), "OPSDESK_LOG_FORMAT": "text"})
    return env


def opsdesk(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "opsdesk", *args],
        env=opsdesk_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("opsdesk-cli")
    # The whole demo (4,000 tickets timed against the SLAs): minutes on a loaded machine.
    result = opsdesk(data_dir, "demo", timeout=900)
    assert result.returncode == 0, result.stderr
    return data_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_help_explains_every_command(tmp_path):
    result = opsdesk(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("serve", "worker", "demo", "token", "check", "manage"):
        assert command in result.stdout


def test_demo_prints_logins_and_is_idempotent(demo_dir):
    again = opsdesk(demo_dir, "demo", timeout=900)
    assert again.returncode == 0, again.stderr
    assert "agent" in again.stdout and "opsdesk-agent" in again.stdout
    count = opsdesk(
        demo_dir,
        "manage",
        "shell",
        "-c",
        "from opsdesk.accounts.models import User; print(User.objects.count())",
    )
    # The demo logins, the requesters who raised the demo desk's tickets, and the automation
    # account the catalogue's demo orders were moved by (an order for a colleague, a rejection).
    expected = len(people.PEOPLE) + tickets.GENERATED_REQUESTERS + 1
    assert count.stdout.strip().splitlines()[-1] == str(expected)


def test_token_create_prints_a_token_and_refuses_unknown_people(demo_dir):
    created = opsdesk(demo_dir, "token", "create", "agent")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("odk_")
    unknown = opsdesk(demo_dir, "token", "create", "nobody")
    assert unknown.returncode == 2
    assert "no user named 'nobody'" in unknown.stderr


def test_check_reports_nothing_with_production_settings(demo_dir):
    result = opsdesk(demo_dir, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_worker_batch_runs_queued_tasks_and_records_jobs(demo_dir):
    enqueue = opsdesk(
        demo_dir,
        "manage",
        "shell",
        "-c",
        "from opsdesk.core.tasks import prune_finished_jobs; print(prune_finished_jobs.enqueue().id)",
    )
    assert enqueue.returncode == 0, enqueue.stderr
    task_id = enqueue.stdout.strip().splitlines()[-1]
    worker = opsdesk(demo_dir, "worker", "--batch", "--no-scheduler")
    assert worker.returncode == 0, worker.stderr
    status = opsdesk(
        demo_dir,
        "manage",
        "shell",
        "-c",
        f"from opsdesk.core.models import Job; print(Job.objects.get(task_result_id='{task_id}').status)",
    )
    assert status.stdout.strip().splitlines()[-1] == "succeeded"


def test_serve_answers_then_stops_cleanly_on_ctrl_c(demo_dir):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "opsdesk", "serve", "--port", str(port)],
        env=opsdesk_env(demo_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, "the server did not become ready"
        assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
        # Ctrl-C reaches the whole foreground process group, as in a terminal.
        os.killpg(server.pid, signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert server.returncode == 0, output
    assert "OpsDesk worker started" in output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
