"""dragonhoard behind PgBouncer in transaction mode (DESIGN section 9,
README "Deployment"): Debian's pgbouncer, started with README's settings,
whose server connections speak Asia/Kolkata time, in front of the run's
PostgreSQL; two waitress processes with ``dragonhoard.db.pooler =
pgbouncer`` and production's pool sizes.

PgBouncer refuses a startup ``options`` parameter, so that every answer
would be 503 if the app still sent one; and with prepared statements on,
two client connections sharing a server connection collide on psycopg's
statement names (``_pg3_0``), which the load test would show as 500s.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from dragonhoard import clock
from dragonhoard.models import Treasure, get_engine
from dragonhoard.settings import ConfigError, load_settings

from .conftest import BASE_SETTINGS
from .deploy_pgbouncer import SERVER_TIMEZONE, pgbouncer  # noqa: F401 - a fixture
from .deploy_waitress import Cookies, app_process, bearer, request, start_all, stop_all
from .factories import PASSWORD

pytestmark = pytest.mark.scaleout

#: production.ini's pools and threads, and the pooler setting.
SETTINGS = dict(BASE_SETTINGS, **{
    "dragonhoard.db.pooler": "pgbouncer",
    "sqlalchemy.pool_size": "4",
    "sqlalchemy.max_overflow": "4",
    "sqlalchemy.pool_timeout": "10",
})
TIMESTAMP_FIELDS = {"created_at", "last_used_at", "last_seen_at", "expires_at", "plundered_at"}


@pytest.fixture(scope="module")
def bounced(database, pgbouncer, tmp_path_factory):  # noqa: F811
    """Two app processes through PgBouncer."""
    tmp = tmp_path_factory.mktemp("pgbouncer")
    url = pgbouncer.url(database.url)
    started = start_all([app_process(tmp, name, url, SETTINGS, threads=4) for name in ("first", "second")])
    try:
        yield tuple(started)
    finally:
        stop_all(started)
    for process in started:
        assert "Traceback" not in process.log(), process.log()


def test_the_server_connections_are_not_utc_and_no_startup_options_are_sent(database, pgbouncer):  # noqa: F811
    """What the other tests stand on: through this PgBouncer the server's
    TimeZone is Asia/Kolkata, and dragonhoard's engine connects although
    PgBouncer refuses ``options``; the pooler setting turns preparing off."""
    url = pgbouncer.url(database.url)
    libpq = re.sub(r"^postgresql\+psycopg", "postgresql", url)
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(libpq, options="-c timezone=UTC").close()
    engine = get_engine({"sqlalchemy.url": url, "dragonhoard.db.pooler": "pgbouncer"})
    direct = get_engine({"sqlalchemy.url": database.url})
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == SERVER_TIMEZONE
            assert conn.connection.driver_connection.prepare_threshold is None
        with direct.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is not None
            assert "options" not in conn.connection.driver_connection.info.get_parameters()
    finally:
        engine.dispose()
        direct.dispose()


@pytest.mark.parametrize("pooler, url, message", [
    ("pgbouncr", "postgresql+psycopg://db/app", "dragonhoard.db.pooler must be one of none, pgbouncer"),
    ("pgbouncer", "sqlite:///app.sqlite", "needs a PostgreSQL database URL"),
])
def test_the_pooler_setting_is_checked_at_start(pooler, url, message):
    raw = dict(BASE_SETTINGS, **{"sqlalchemy.url": url, "dragonhoard.db.pooler": pooler})
    with pytest.raises(ConfigError, match=message):
        load_settings(raw)
    assert load_settings(dict(raw, **{"dragonhoard.db.pooler": ""})).db_pooler == "none"


def utc(value: str) -> datetime:
    """A timestamp of an answer, which must be written in UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


def timestamps(data) -> list[str]:
    """Every timestamp field anywhere in a JSON answer."""
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k in TIMESTAMP_FIELDS and isinstance(v, str)]
        return found + [t for v in data.values() for t in timestamps(v)]
    if isinstance(data, list):
        return [t for v in data for t in timestamps(v)]
    return []


def test_timestamps_are_read_as_utc_from_a_server_in_another_timezone(bounced, clean_database,
                                                                      factory):
    first, second = bounced
    user = factory.user()
    expires = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    _row, secret = factory.token(user, scopes=["treasure:read", "treasure:create"], expires_at=expires)
    before = clock.now() - timedelta(seconds=5)
    created = request(first.port, "POST", "/api/treasures", {"name": "Arkenstone"}, bearer(secret))
    assert created.status == 201
    # Read back on the other process, through the hot statements.
    item = request(second.port, "GET", f"/api/treasures/{created.json()['id']}", headers=bearer(secret))
    assert item.status == 200
    assert before <= utc(item.json()["created_at"]) <= clock.now() + timedelta(seconds=5)
    # The expiry notice is formatted from the token row the hot statement read.
    assert item.headers["Dragonhoard-Token-Expires"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    cookies = Cookies()
    login = request(first.port, "POST", "/api/login", {"email": user.email, "password": PASSWORD})
    assert login.status == 200
    cookies.keep(login)
    headers = dict(cookies.header(), **{"X-CSRF-Token": login.json()["csrf_token"]})
    found = []
    for path in ("/api/tokens", "/api/sessions", "/api/events"):
        answer = request(second.port, "GET", path, headers=headers)
        assert answer.status == 200, (path, answer.body)
        found += timestamps(answer.json())
    assert len(found) >= 6
    for value in found:
        assert utc(value) >= before - timedelta(days=1), value
    page = request(second.port, "GET", "/tokens", headers=headers)
    assert page.status == 200
    assert expires.strftime("%Y-%m-%d %H:%M UTC") in page.body.decode()


def one_client(ports: list[int], user, secret: str, published_id: int, rounds: int,
               statuses: Counter, failures: list, lock: threading.Lock) -> None:
    """A client mixing reads and writes, alternating between the processes."""
    rng = random.Random(secret)
    auth = bearer(secret)

    def call(method: str, path: str, body=None, headers=None):
        port = rng.choice(ports)
        answer = request(port, method, path, body, headers or auth)
        with lock:
            statuses[answer.status] += 1
            if not 200 <= answer.status < 300:
                failures.append((method, path, answer.status, answer.body[:200]))
        return answer

    login = call("POST", "/api/login", {"email": user.email, "password": PASSWORD}, {})
    cookies = Cookies()
    cookies.keep(login)
    for number in range(rounds):
        call("GET", f"/api/treasures/{published_id}")
        call("GET", "/api/treasures?per_page=10")
        created = call("POST", "/api/treasures", {"name": f"load {number}"})
        if created.status == 201:
            path = f"/api/treasures/{created.json()['id']}"
            call("PATCH", path, {"value": number})
            call("GET", path)
            if number % 2:
                call("DELETE", path)
        call("GET", "/api/me", headers=cookies.header())


def test_a_mixed_load_through_pgbouncer_answers_only_2xx(bounced, clean_database, factory, dbsession):
    first, second = bounced
    owner = factory.user()
    published = factory.treasure(owner, is_published=True)
    clients = []
    for _ in range(6):
        user = factory.user()
        _row, secret = factory.token(user, scopes=["treasure:read", "treasure:create",
                                                   "treasure:edit", "treasure:delete"])
        clients.append((user, secret))
    statuses: Counter = Counter()
    failures: list = []
    lock = threading.Lock()
    rounds = 12
    threads = [threading.Thread(target=one_client,
                                args=([first.port, second.port], user, secret, published.id, rounds,
                                      statuses, failures, lock))
               for user, secret in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not failures, (failures[:5], statuses)
    # login + 12 rounds of 7 or 6 requests, by 6 clients.
    assert sum(statuses.values()) == 6 * (1 + rounds * 6 + rounds // 2), statuses
    # Every write landed: half of each client's treasures were deleted again.
    kept = dbsession.scalar(select(func.count()).select_from(Treasure).where(Treasure.owner_id != owner.id))
    assert kept == 6 * (rounds - rounds // 2)
    assert time.monotonic() - started < 120
