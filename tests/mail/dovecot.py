"""A throw-away Dovecot IMAP server on 127.0.0.1 for the tests: passwd-file sign-in, maildir
under a temporary directory, started with ``dovecot -F -c <conf>`` and stopped afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

USER, PASSWORD = "desk@example.com", "s3cret-imap"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (os.path.exists("/usr/sbin/dovecot") and "/usr/sbin/dovecot") or None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def _config(self) -> Path:
        base = self.directory
        for name in ("run", "state", "home"):
            (base / name).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # Dovecot refuses mail access as root: the mail files belong to its own user.
            account = pwd.getpwnam("dovecot")
            uid, gid, login_user, internal_user = account.pw_uid, account.pw_gid, "dovenull", "dovecot"
        else:
            uid, gid = os.getuid(), os.getgid()
            login_user = internal_user = pwd.getpwuid(uid).pw_name
        (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        config = base / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {min(uid, 100)}
mail_location = maildir:{base}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )
        if os.geteuid() == 0:
            shutil.chown(base / "home", uid, gid)
            os.chmod(base, 0o755)
        return config

    def __enter__(self) -> Dovecot:
        config = self._config()
        self.process = subprocess.Popen(  # Debian's dovecot, our own config
            [dovecot_binary(), "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"dovecot did not start: {output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not answer within 15 s")

    def __exit__(self, *exc_info) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
