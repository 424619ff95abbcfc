"""/healthz, and what every answer does when the database is away or was restarted."""
from __future__ import annotations

import time

import pytest
import webtest
from sqlalchemy import text

from dragonhoard import application, main
from dragonhoard.security import tokens

from .conftest import BASE_SETTINGS
from .helpers import bearer


def test_healthz_answers_when_the_database_does(testapp):
    response = testapp.get("/healthz")
    assert response.json == {"status": "ok"}


@pytest.fixture
def unreachable(database, tmp_path):
    """An app whose database cannot be reached."""
    if database.backend == "sqlite":
        url = f"sqlite:///{tmp_path}/missing-dir/nothing.sqlite"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"
    app = main({}, **dict(BASE_SETTINGS, **{"sqlalchemy.url": url}))
    yield webtest.TestApp(app)
    application.dispose(application.of(app.registry))


def test_without_the_database_answers_are_503_with_retry_after(unreachable):
    response = unreachable.get("/healthz", status=503)
    assert response.json == {"status": "unavailable"} and response.headers["Retry-After"].isdigit()
    for path in ("/api/treasures", "/api/treasures/1"):
        response = unreachable.get(path, status=503)
        assert response.json["error"] == "unavailable" and response.headers["Retry-After"].isdigit()
    response = unreachable.get("/api/me", headers=bearer(tokens.generate()), status=503)
    assert b"Traceback" not in response.body
    page = unreachable.get("/login", status=200)  # needs no database
    assert "Log in" in page.text


def test_answers_that_need_no_database_stay_as_they_are(unreachable):
    mistyped = "dhp_" + "A" * 46
    response = unreachable.get("/api/me", headers=bearer(mistyped), status=401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    unreachable.get("/api/me", headers={"Authorization": "Basic eDp5"}, status=401)


def test_the_same_process_serves_again_after_the_database_dropped_it(testapp, factory, database):
    """Connections are checked before use: the ones PostgreSQL closed are replaced."""
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL closes the connections here")
    user = factory.user()
    treasure = factory.treasure(user, is_published=True)
    _row, secret = factory.token(user, scopes=["treasure:read"])
    for _ in range(3):
        testapp.get(f"/api/treasures/{treasure.id}", headers=bearer(secret))
        testapp.patch_json(f"/api/treasures/{treasure.id}", {"value": 1}, headers=bearer(secret),
                           status=403)
    others = " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with database.engine.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid))" + others)).scalar()
        assert killed >= 1
        for _ in range(100):  # the backends end a moment after they are told to
            if conn.execute(text("SELECT count(*)" + others)).scalar() == 0:
                break
            time.sleep(0.05)
    testapp.get(f"/api/treasures/{treasure.id}", headers=bearer(secret))
    testapp.get("/healthz")
