"""The ``opsdesk`` command: serve, worker, demo, token, check and manage."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

SETTINGS = "opsdesk.config.settings"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
SHUTDOWN_GRACE_SECONDS = 10


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def _manage(*args: str) -> None:
    _setup()
    from django.core.management import call_command

    call_command(*args)


# --- serve ------------------------------------------------------------------------------
def cmd_serve(options: argparse.Namespace) -> int:
    """Migrate, then run the web server and a worker side by side until Ctrl-C."""
    _manage("migrate", "--no-input", "--verbosity", "0")
    # Hashed, compressed static files: browsers cache them for good, and a release busts it.
    _manage("collectstatic", "--no-input", "--verbosity", "0")
    from django.db import connections

    # The supervisor only starts and stops processes: give its database connections back.
    connections.close_all()
    python = sys.executable
    web = [
        python,
        "-m",
        "uvicorn",
        "opsdesk.config.asgi:application",
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--workers",
        str(options.workers),
        "--no-access-log",
        "--proxy-headers",
        "--lifespan",
        "off",
    ]
    worker = [python, "-m", "opsdesk", "worker"]
    print(f"OpsDesk is serving http://{options.host}:{options.port}/ (Ctrl-C stops)", flush=True)
    children = [subprocess.Popen(web)]  # noqa: S603  (our own interpreter and module)
    if not options.no_worker:
        children.append(subprocess.Popen(worker))  # noqa: S603
    from django.conf import settings

    if settings.SMTP_LISTEN:
        # The mail receiver is supervised like the worker: if it stops, serve stops.
        children.append(subprocess.Popen([python, "-m", "opsdesk", "mail-receiver"]))  # noqa: S603
    return _supervise(children)


# --- mail receiver ---------------------------------------------------------------------------
def cmd_mail_receiver(options: argparse.Namespace) -> int:
    """Run the built-in SMTP/LMTP receiver for the desk's receiver mailboxes until stopped."""
    _setup()
    from django.conf import settings

    from opsdesk.mail.receiver import IntakeReceiver, parse_listen

    listen = options.listen or settings.SMTP_LISTEN
    if not listen:
        print("opsdesk: set OPSDESK_SMTP_LISTEN (e.g. 127.0.0.1:2525) or pass --listen", file=sys.stderr)
        return 2
    try:
        host, port, lmtp = parse_listen(listen)
    except ValueError as exc:
        print(f"opsdesk: {exc}", file=sys.stderr)
        return 2
    receiver = IntakeReceiver(host, port, lmtp=lmtp)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    receiver.start()
    print(f"OpsDesk mail receiver ({'LMTP' if lmtp else 'SMTP'}) on {host}:{port}", flush=True)
    stopping.wait()
    receiver.stop()
    return 0


def _supervise(children: list[subprocess.Popen]) -> int:
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    while not stopping.is_set():
        for child in children:
            code = child.poll()
            if code is not None:
                print(
                    f"opsdesk: {child.args[2]} stopped with exit code {code}; stopping the rest",
                    file=sys.stderr,
                )
                exit_code = code or 1
                stopping.set()
        stopping.wait(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return exit_code


# --- worker ------------------------------------------------------------------------------
def cmd_worker(options: argparse.Namespace) -> int:
    """Run background tasks from the database queue, and the periodic scheduler."""
    _setup()
    from django.conf import settings
    from django.utils.crypto import get_random_string
    from django_tasks_db.management.commands.db_worker import Worker

    from opsdesk.core.scheduler import scheduler_loop

    stop = threading.Event()
    scheduler = None
    if not options.no_scheduler:
        scheduler = threading.Thread(
            target=scheduler_loop,
            args=(stop,),
            name="scheduler",
            daemon=True,
            kwargs={"interval": settings.SCHEDULER_INTERVAL_SECONDS},
        )
        scheduler.start()
    idle = None
    if not options.no_idle:
        from opsdesk.mail.idle import idle_loop

        # IMAP IDLE: mail as it arrives, where servers offer it (the minute's poll stays).
        idle = threading.Thread(target=idle_loop, args=(stop,), name="imap-idle", daemon=True)
        idle.start()
    worker = Worker(
        queue_names=["*"],
        interval=options.interval,
        batch=options.batch,
        backend_name="default",
        startup_delay=not options.batch,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )
    worker.configure_signals()
    print("OpsDesk worker started" + ("" if scheduler else " (scheduler off)"), flush=True)
    try:
        worker.run()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        stop.set()
        if scheduler:
            scheduler.join(timeout=5)
        if idle:
            idle.join(timeout=5)
    return 0


# --- demo, token, check, manage --------------------------------------------------------------
def cmd_demo(options: argparse.Namespace) -> int:
    _manage("migrate", "--no-input", "--verbosity", "0")
    _manage("demo")
    return 0


def cmd_token(options: argparse.Namespace) -> int:
    _setup()
    from opsdesk.accounts.models import User
    from opsdesk.accounts.services import token_create

    try:
        user = User.objects.get(username=options.username)
    except User.DoesNotExist:
        print(
            f"opsdesk: no user named {options.username!r}. List people with "
            "'opsdesk manage shell -c \"from opsdesk.accounts.models import User; "
            "print(*User.objects.values_list(\\'username\\', flat=True))\"'",
            file=sys.stderr,
        )
        return 2
    from opsdesk.core.audit import acting
    from opsdesk.core.choices import Channel
    from opsdesk.core.exceptions import ServiceError

    try:
        with acting(channel=Channel.CLI):
            _, raw = token_create(actor=user, user=user, name=options.name)
    except ServiceError as exc:
        print(f"opsdesk: {exc.message}", file=sys.stderr)
        return 2
    print(raw)
    return 0


def cmd_check(options: argparse.Namespace) -> int:
    """Django's deployment checks, as production runs them (HTTPS on, debug off) unless set."""
    os.environ.setdefault("OPSDESK_HTTPS", "1")
    os.environ["OPSDESK_DEBUG"] = "0"
    _setup()
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", "--deploy", "--fail-level", "WARNING")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_manage(options: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opsdesk manage", *options.args])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsdesk",
        description="OpsDesk: IT service management. Configure with OPSDESK_* environment variables "
        "(see docs/configuration.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="apply migrations, then run the web server and a background worker",
        description=cmd_serve.__doc__,
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("OPSDESK_WEB_WORKERS", "1")),
        help="web server processes (default 1, or OPSDESK_WEB_WORKERS)",
    )
    serve.add_argument(
        "--no-worker", action="store_true", help="serve the web only; run 'opsdesk worker' apart"
    )
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker", help="run background tasks and the periodic scheduler", description=cmd_worker.__doc__
    )
    worker.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls when idle (default 1)"
    )
    worker.add_argument("--batch", action="store_true", help="run what is queued, then exit")
    worker.add_argument("--no-scheduler", action="store_true", help="do not run periodic schedules here")
    worker.add_argument(
        "--no-idle",
        action="store_true",
        help="do not watch IMAP mailboxes with IDLE here (the poll still runs)",
    )
    worker.set_defaults(handler=cmd_worker)

    receiver = commands.add_parser(
        "mail-receiver",
        help="run the SMTP/LMTP receiver (OPSDESK_SMTP_LISTEN; 'opsdesk serve' starts it when set)",
        description=cmd_mail_receiver.__doc__,
    )
    receiver.add_argument("--listen", help="[lmtp://]host:port; default OPSDESK_SMTP_LISTEN")
    receiver.set_defaults(handler=cmd_mail_receiver)

    demo = commands.add_parser("demo", help="load demo data (idempotent) and print the demo logins")
    demo.set_defaults(handler=cmd_demo)

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="print a new API token for USERNAME")
    create.add_argument("username")
    create.add_argument("--name", default="CLI token", help="a label to recognise the token by")
    create.set_defaults(handler=cmd_token)

    check = commands.add_parser(
        "check", help="run Django's deployment checks with production settings", description=cmd_check.__doc__
    )
    check.set_defaults(handler=cmd_check)

    manage = commands.add_parser(
        "manage", help="run any Django management command, e.g. 'opsdesk manage migrate'"
    )
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    options = build_parser().parse_args(argv)
    sys.exit(options.handler(options))


if __name__ == "__main__":
    main()
