"""Test plumbing: a database per backend per run, an app built from test
settings, a webtest TestApp, a clean database for every test, a freezable
clock and factories (``tests/factories.py``).

Every test that uses the database runs on SQLite, and on PostgreSQL too when
``DRAGONHOARD_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it). Tests on
PostgreSQL create their own database and drop it afterwards.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest
import webtest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.statements import StatementLog
from dragonhoard import application, main
from dragonhoard import clock as app_clock
from dragonhoard.models import get_engine, get_session_factory
from dragonhoard.models.meta import metadata

from . import factories
from .helpers import login

POSTGRES_URL = os.environ.get("DRAGONHOARD_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"]
CLIENT_ADDR = "192.0.2.10"

#: Settings every test app starts from: cheap argon2 so that the suite is fast.
BASE_SETTINGS = {
    "dragonhoard.environment": "test",
    "dragonhoard.secret": "test-secret-" + "x" * 40,
    "dragonhoard.argon2.time_cost": "1",
    "dragonhoard.argon2.memory_cost": "8",
    "dragonhoard.argon2.parallelism": "1",
    "tm.annotate_user": "false",
    "retry.attempts": "3",
}


class TestDatabase:
    """A database of the run for one backend, created and migrated once."""

    def __init__(self, backend: str, tmp_path_factory) -> None:
        self.backend = backend
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "dragonhoard.sqlite"
            self.url = f"sqlite:///{path}"
            self._admin_url = None
        else:
            name = f"dh_test_{uuid.uuid4().hex[:12]}"
            self._admin_url = POSTGRES_URL
            self.name = name
            self.url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
            create_database(self._admin_url, name)
        self.engine = get_engine({"sqlalchemy.url": self.url})
        self.session_factory = get_session_factory(self.engine)

    def migrate(self) -> None:
        from dragonhoard.cli.initdb import upgrade

        upgrade(ini_path(), self.engine)

    def clean(self) -> None:
        with self.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                # The counts' one row follows the treasures by triggers.
                if table.name != "treasure_counts":
                    conn.execute(table.delete())

    def drop(self) -> None:
        self.engine.dispose()
        if self._admin_url:
            drop_database(self._admin_url, self.name)


def create_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def ini_path() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "development.ini")


@pytest.fixture(scope="session", params=BACKENDS)
def database(request, tmp_path_factory):
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("DRAGONHOARD_TEST_POSTGRES_URL is not set")
    db = TestDatabase(request.param, tmp_path_factory)
    db.migrate()
    yield db
    db.drop()


@pytest.fixture(scope="session")
def app_factory(database):
    """Build (once per distinct settings) an app on the run's database."""
    apps = {}

    def make(**overrides):
        key = tuple(sorted(overrides.items()))
        if key not in apps:
            settings = dict(BASE_SETTINGS, **{"sqlalchemy.url": database.url})
            settings.update({k.replace("__", "."): v for k, v in overrides.items()})
            apps[key] = main({}, **settings)
        return apps[key]

    yield make
    for app in apps.values():
        application.dispose(application.of(app.registry))


@pytest.fixture
def clean_database(database):
    yield database
    database.clean()


@pytest.fixture
def dbsession(clean_database):
    """A session of the test's own, to arrange data and check what was written."""
    with clean_database.session_factory() as session:
        yield session


@pytest.fixture
def make_testapp(app_factory, clean_database):
    def make(**overrides) -> webtest.TestApp:
        return webtest.TestApp(app_factory(**overrides), extra_environ={"REMOTE_ADDR": CLIENT_ADDR})

    return make


@pytest.fixture
def testapp(make_testapp) -> webtest.TestApp:
    return make_testapp()


@pytest.fixture
def factory(dbsession):
    return factories.Factory(dbsession)


@pytest.fixture
def session(testapp, factory):
    """A logged-in browser: (testapp, user, headers with the CSRF token)."""
    user = factory.user()
    csrf = login(testapp, user)
    return testapp, user, {"X-CSRF-Token": csrf}


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


@pytest.fixture
def clock():
    """Freeze dragonhoard's clock; ``clock.advance(seconds=...)`` moves it."""
    frozen = FrozenClock(app_clock.now().replace(microsecond=0))
    app_clock.set_now(frozen)
    yield frozen
    app_clock.set_now(None)



@pytest.fixture
def statement_log(tmp_path):
    """``with statement_log(app) as log: ...; log.count``."""

    def make(app) -> StatementLog:
        return StatementLog(app.registry, tmp_path)

    return make
