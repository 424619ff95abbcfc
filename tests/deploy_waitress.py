"""App processes for the deployment tests: ``pserve`` children on free
loopback ports, their ini files, and a small HTTP client that can speak from
another loopback address (127.0.0.2, ...) or over TLS."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: A test app's ini file: the settings given, waitress with a few threads.
TEST_INI = """
[app:main]
use = egg:dragonhoard
{settings}

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = {threads}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""


def readme_block(first_line: str) -> str:
    """The indented code block of README.md that starts with ``first_line``
    (its four-space indent removed): the tests run what README shows."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("    " + first_line)
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block).strip() + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_ini(port: int, settings: dict[str, str], threads: int = 2) -> str:
    lines = "\n".join(f"{key} = {value}" for key, value in settings.items())
    return TEST_INI.format(port=port, settings=lines, threads=threads)


def production_ini(port: int, pooler: str = "none") -> str:
    """production.ini as README's deployment makes one per process: only the
    ``listen`` line (and the pooler line) changed."""
    text = (ROOT / "production.ini").read_text()
    text, listens = re.subn(r"^listen = .*$", f"listen = 127.0.0.1:{port}", text, flags=re.M)
    text, poolers = re.subn(r"^dragonhoard\.db\.pooler = .*$", f"dragonhoard.db.pooler = {pooler}",
                            text, flags=re.M)
    assert listens == 1 and poolers == 1, "production.ini lost its listen or pooler line"
    return text.replace("%(here)s", str(ROOT))


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header_values(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []


def request(port: int, method: str, path: str, body: Any = None, headers: dict | None = None, *,
            source: str | None = None, tls: ssl.SSLContext | None = None,
            timeout: float = 15) -> Answer:
    """One request on a new connection; ``body`` is sent as JSON unless bytes."""
    source_address = (source, 0) if source else None
    if tls is not None:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls,
                                                 source_address=source_address)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                                source_address=source_address)
    headers = dict(headers or {})
    payload = body
    if body is not None and not isinstance(body, bytes):
        payload = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class Cookies:
    """The cookies a client keeps (name -> value), from Set-Cookie headers."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def keep(self, answer: Answer) -> None:
        for header in answer.header_values("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.values[name] = morsel.value

    def header(self) -> dict[str, str]:
        if not self.values:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.values.items())}


class Waitress:
    """One ``pserve`` process serving ``ini``, stopped with its process group."""

    def __init__(self, ini: Path, port: int, env: dict[str, str]) -> None:
        self.ini, self.port = ini, port
        self.log_path = ini.with_suffix(".log")
        self._env = env
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> Waitress:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pyramid.scripts.pserve", str(self.ini)],
                env=self._env, stdout=log, stderr=log, start_new_session=True, cwd=ROOT,
            )

    def wait_ready(self, timeout: float = 30) -> Waitress:
        """Until /healthz answers 200 (the process serves, the database answers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if request(self.port, "GET", "/healthz", timeout=5).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.ini.name} did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def app_process(tmp_dir: Path, name: str, database_url: str, settings: dict[str, str],
             threads: int = 2) -> Waitress:
    """A waitress process (not started) of the test settings on ``database_url``."""
    port = free_port()
    ini = tmp_dir / f"{name}.ini"
    ini.write_text(app_ini(port, settings, threads))
    return Waitress(ini, port, dict(os.environ, DRAGONHOARD_DATABASE_URL=database_url))


def production_process(tmp_dir: Path, name: str, env: dict[str, str], pooler: str = "none") -> Waitress:
    """A waitress process (not started) of production.ini, its secrets in ``env``."""
    port = free_port()
    ini = tmp_dir / f"{name}.ini"
    ini.write_text(production_ini(port, pooler))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DRAGONHOARD_")}
    return Waitress(ini, port, dict(clean, **env))


def start_all(processes: list[Waitress], timeout: float = 30) -> list[Waitress]:
    """Launched together (each takes a second or two to import), then awaited."""
    try:
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_ready(timeout)
    except BaseException:
        stop_all(processes)
        raise
    return processes


def stop_all(processes: list[Waitress]) -> None:
    for process in processes:
        process.stop()
