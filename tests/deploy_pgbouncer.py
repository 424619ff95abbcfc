"""PgBouncer (Debian's package) in transaction mode, started by the tests with
the settings README's "Deployment" shows (its pgbouncer.ini block is read
from README itself), so that what README recommends is what runs here.

Only what ties it to the test machine is changed: the port, trust
authentication, a temporary directory for the socket and the log, and a
``[databases]`` line that reaches every database of the server with a
TimeZone that is not UTC (the app must read timestamps as UTC anyway).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from .deploy_waitress import free_port, readme_block

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
#: A server TimeZone far from UTC, so that a timestamp read in it shows.
SERVER_TIMEZONE = "Asia/Kolkata"
MISSING = "pgbouncer is not installed (apt-get install pgbouncer; .ci/run installs it)"


def available() -> bool:
    return os.access(PGBOUNCER, os.X_OK)


def readme_settings() -> dict[str, str]:
    """The ``[pgbouncer]`` settings of README's pgbouncer.ini block."""
    text = readme_block("# /etc/pgbouncer/pgbouncer.ini")
    section = text[text.index("[pgbouncer]\n"):].splitlines()[1:]
    settings = dict(line.split(" = ", 1) for line in section if " = " in line)
    assert settings.get("pool_mode") == "transaction", settings
    return settings


def owned_by_postgres(path: Path) -> None:
    """pgbouncer refuses to run as root: it drops to the postgres user
    (``user = postgres``), who must read its files and write its log."""
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")


class PgBouncer:
    """One pgbouncer process in front of ``server_host:server_port``."""

    def __init__(self, server_host: str, server_port: int, users: dict[str, str], *,
                 timezone: str | None = SERVER_TIMEZONE) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dh-pgbouncer-"))
        owned_by_postgres(self.dir)
        self.port = free_port()
        self.server = (server_host, server_port)
        self.timezone = timezone
        self.users = users
        self.process: subprocess.Popen | None = None

    def config(self) -> str:
        host, port = self.server
        target = f"host={host} port={port}" + (f" timezone={self.timezone}" if self.timezone else "")
        settings = dict(readme_settings(), listen_addr="127.0.0.1", listen_port=str(self.port),
                        unix_socket_dir=str(self.dir), auth_type="trust",
                        auth_file=str(self.dir / "users.txt"), logfile=str(self.dir / "pgbouncer.log"))
        if os.geteuid() == 0:
            settings["user"] = "postgres"
        lines = ["[databases]", f"* = {target}", "", "[pgbouncer]"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        return "\n".join(lines) + "\n"

    def start(self) -> PgBouncer:
        users = "".join(f'"{name}" "{password}"\n' for name, password in self.users.items())
        for name, text in (("users.txt", users), ("pgbouncer.ini", self.config())):
            (self.dir / name).write_text(text)
            owned_by_postgres(self.dir / name)
        self.process = subprocess.Popen([PGBOUNCER, str(self.dir / "pgbouncer.ini")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer did not start:\n{self.log()}")

    def url(self, database_url: str) -> str:
        """``database_url`` through this pgbouncer (same database and user)."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def for_server(database_url: str, **kwargs) -> PgBouncer:
    """A started pgbouncer in front of the server of ``database_url``."""
    url = make_url(database_url)
    users = {url.username or "postgres": url.password or ""}
    return PgBouncer(url.host or "127.0.0.1", url.port or 5432, users, **kwargs).start()


@pytest.fixture(scope="session")
def pgbouncer(database):
    """PgBouncer in front of the run's PostgreSQL server."""
    if database.backend != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections, not SQLite")
    if not available():
        pytest.skip(MISSING)
    bouncer = for_server(database.url)
    yield bouncer
    bouncer.remove()
