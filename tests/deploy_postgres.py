"""A private PostgreSQL server for one test module, that can really be stopped
and started again (the shared server of the run must never be): Debian's
initdb and pg_ctl, run as the postgres user (they refuse root) in a
temporary directory, on a free loopback port, its socket in that directory.
Its TimeZone is not UTC, like a server nobody configured for dragonhoard."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .deploy_waitress import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
TIMEZONE = "Asia/Kolkata"
MISSING = f"PostgreSQL's initdb and pg_ctl are not in {BIN} (apt-get install postgresql-15)"


def available() -> bool:
    tools = [BIN / "initdb", BIN / "pg_ctl"]
    if os.geteuid() == 0:
        tools.append(Path(RUNUSER))
    return all(os.access(tool, os.X_OK) for tool in tools)


class PrivatePostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dh-postgres-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.port = free_port()

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = [RUNUSER, "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=timeout,
                       cwd=self.dir)

    def init(self) -> PrivatePostgres:
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.dir}'",
            "timezone": f"'{TIMEZONE}'",
            "max_connections": "50",
            "fsync": "off",  # a test server: nothing to keep after a crash
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        return self

    def start(self) -> PrivatePostgres:
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"),
                  "-w", "-t", "30", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
