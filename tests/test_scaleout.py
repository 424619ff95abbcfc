"""Two waitress processes over one PostgreSQL database (DESIGN section 9):
nothing lives in a process, so whatever one process does, the other sees on
its very next request."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie

import pytest

from .conftest import BASE_SETTINGS
from .factories import PASSWORD

pytestmark = pytest.mark.scaleout

INI = """
[app:main]
use = egg:dragonhoard
{settings}

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = 2

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
format = %(levelname)s %(message)s
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """One ``pserve`` process of the app, and a tiny HTTP client for it."""

    def __init__(self, tmp_path, name: str, database_url: str) -> None:
        self.port = free_port()
        settings = dict(BASE_SETTINGS, **{"dragonhoard.throttle.account_address_limit": "3"})
        ini = tmp_path / f"{name}.ini"
        ini.write_text(INI.format(port=self.port,
                                  settings="\n".join(f"{k} = {v}" for k, v in settings.items())))
        env = dict(os.environ, DRAGONHOARD_DATABASE_URL=database_url)
        self.log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pyramid.scripts.pserve", str(ini)],
            env=env, stdout=self.log, stderr=self.log, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start: {(tmp_path / f'{name}.log').read_text()}")

    def request(self, method: str, path: str, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response.headers, json.loads(data) if data else None

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)
        self.log.close()


class Browser:
    """Cookies and the CSRF token, kept across requests to either process."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def headers(self, extra=None) -> dict[str, str]:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def call(self, process: Process, method: str, path: str, body=None):
        status, headers, data = process.request(method, path, body, self.headers())
        for value in headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return status, data

    def login(self, process: Process, email: str, password: str = PASSWORD):
        status, data = self.call(process, "POST", "/api/login", {"email": email, "password": password})
        if status == 200:
            self.csrf = data["csrf_token"]
        return status, data


@pytest.fixture
def processes(database, clean_database, tmp_path):
    if database.backend != "postgresql":
        pytest.skip("many processes share PostgreSQL, not a SQLite file")
    first = Process(tmp_path, "first", database.url)
    try:
        second = Process(tmp_path, "second", database.url)
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_sessions_and_revocations_cross_processes(processes, factory):
    first, second = processes
    user = factory.user()
    browser, other_browser = Browser(), Browser()
    assert browser.login(first, user.email)[0] == 200
    assert browser.call(second, "GET", "/api/me")[0] == 200  # created by one, honoured by the other
    assert other_browser.login(second, user.email)[0] == 200
    sessions = browser.call(second, "GET", "/api/sessions")[1]["items"]
    other_id = next(item["id"] for item in sessions if not item["current"])
    assert browser.call(first, "DELETE", f"/api/sessions/{other_id}")[0] == 204
    assert other_browser.call(second, "GET", "/api/me")[0] == 401  # revoked by the first


def test_a_token_revoked_through_one_is_refused_by_the_other(processes, factory):
    first, second = processes
    user = factory.user()
    _row, secret = factory.token(user)
    assert second.request("GET", "/api/me", headers=bearer(secret))[0] == 200
    assert first.request("DELETE", "/api/tokens/self", headers=bearer(secret))[0] == 204
    status, headers, _body = second.request("GET", "/api/me", headers=bearer(secret))
    assert status == 401 and 'error="invalid_token"' in headers["WWW-Authenticate"]


def test_a_role_change_through_one_applies_on_the_other_at_once(processes, factory):
    first, second = processes
    owner, member = factory.user(), factory.user()
    project = factory.project(members={owner: "owner", member: "viewer"})
    treasure = factory.treasure(owner, project=project)
    _row, owner_secret = factory.token(owner, scopes=["project:admin"])
    _row, member_secret = factory.token(member, scopes=["treasure:edit", "treasure:read"])
    path = f"/api/treasures/{treasure.id}"
    assert second.request("PATCH", path, {"value": 1}, bearer(member_secret))[0] == 403
    status, _h, _b = first.request("PUT", f"/api/projects/{project.slug}/members/{member.id}",
                                   {"role": "editor"}, bearer(owner_secret))
    assert status == 200
    assert second.request("PATCH", path, {"value": 2}, bearer(member_secret))[0] == 200


def test_throttling_counts_failures_across_processes(processes, factory):
    first, second = processes
    user = factory.user()
    browser = Browser()
    assert browser.login(first, user.email, "wrong-password")[0] == 401
    assert browser.login(second, user.email, "wrong-password")[0] == 401
    assert browser.login(first, user.email, "wrong-password")[0] == 401
    status, _body = browser.login(second, user.email)  # the right password, past the limit
    assert status == 429
