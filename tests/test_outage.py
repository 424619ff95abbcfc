"""The database goes away and comes back (DESIGN section 9): every answer is
503 with Retry-After meanwhile, the outage and its end are logged once each
(not a line per request), no traceback reaches the log, and the same process
serves again once the database is back."""
from __future__ import annotations

import logging
import time

import pytest
import webtest
from sqlalchemy.engine import make_url

from dragonhoard import application, main
from dragonhoard.models import outage

from .conftest import BASE_SETTINGS, CLIENT_ADDR
from .factories import PASSWORD
from .helpers import login
from .tcpproxy import TcpProxy


@pytest.fixture
def through_proxy(database, clean_database):
    """An app that reaches the test database through a relay we can cut."""
    if database.backend != "postgresql":
        pytest.skip("a database server to take away is PostgreSQL's")
    url = make_url(database.url)
    proxy = TcpProxy(url.port or 5432, url.host or "127.0.0.1")
    proxy.start()
    app = main({}, **dict(BASE_SETTINGS, **{"sqlalchemy.url": url.set(port=proxy.port)
                                            .render_as_string(hide_password=False)}))
    yield webtest.TestApp(app, extra_environ={"REMOTE_ADDR": CLIENT_ADDR}), proxy
    proxy.stop()
    application.dispose(application.of(app.registry))


def outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "dragonhoard.database"]


def test_a_database_that_goes_away_and_comes_back(through_proxy, factory, caplog, monkeypatch):
    monkeypatch.setattr(outage, "SETTLE_SECONDS", 0.2)
    testapp, proxy = through_proxy
    user = factory.user()
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    testapp.post_json("/api/treasures", {"name": "Before"}, headers=headers, status=201)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        proxy.stop()
        for _ in range(5):
            for response in (testapp.get("/api/treasures", status=503),
                             testapp.post_json("/api/treasures", {"name": "During"}, headers=headers,
                                               status=503),
                             testapp.post_json("/api/sudo", {"password": PASSWORD}, headers=headers,
                                               status=503),
                             testapp.get("/healthz", status=503)):
                assert response.headers["Retry-After"].isdigit()
        proxy.start(proxy.port)
        testapp.get("/healthz", status=200)  # too soon after the last failure to end it
        assert len(outage_lines(caplog)) == 1
        time.sleep(0.3)
        testapp.post_json("/api/treasures", {"name": "After"}, headers=headers, status=201)
    lines = outage_lines(caplog)
    assert len(lines) == 2, lines
    assert lines[0].startswith("database unavailable") and lines[1].startswith("database available again")
    assert "(20 answers were 503)" in lines[1]
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert "Failed to abort" not in caplog.text


def test_a_request_whose_other_connection_fails_first_logs_no_traceback(through_proxy, factory,
                                                                       caplog):
    """The throttle's connection fails while the request's own (already used)
    one is dead too but does not know it yet: its rollback must not log a
    traceback ("Failed to abort resource manager")."""
    from sqlalchemy import event

    testapp, proxy = through_proxy
    user = factory.user()
    csrf = login(testapp, user)
    engine = application.of(testapp.app.registry).engine
    cut = {"armed": True}

    def before_throttle(_conn, _cursor, statement, *_args):
        if cut["armed"] and "throttle_hits" in statement:
            cut["armed"] = False
            proxy.stop()

    event.listen(engine, "before_cursor_execute", before_throttle)
    try:
        with caplog.at_level(logging.INFO):
            testapp.post_json("/api/sudo", {"password": "wrong"}, headers={"X-CSRF-Token": csrf},
                              status=503)
    finally:
        event.remove(engine, "before_cursor_execute", before_throttle)
    assert not cut["armed"]
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert "Failed to abort" not in caplog.text
    proxy.start(proxy.port)
    testapp.get("/api/me", status=200)


def test_an_unreachable_database_is_logged_once(database, tmp_path, caplog):
    if database.backend == "sqlite":
        url = f"sqlite:///{tmp_path}/missing-dir/nothing.sqlite"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"
    app = main({}, **dict(BASE_SETTINGS, **{"sqlalchemy.url": url}))
    testapp = webtest.TestApp(app)
    with caplog.at_level(logging.INFO):
        for _ in range(10):
            testapp.get("/api/treasures/1", status=503)
            testapp.get("/healthz", status=503)
    application.dispose(application.of(app.registry))
    assert len(outage_lines(caplog)) == 1
