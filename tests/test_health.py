from __future__ import annotations

import webtest

from dragonhoard import main

from .conftest import BASE_SETTINGS


def test_healthz_answers_when_the_database_does(testapp):
    response = testapp.get("/healthz")
    assert response.json == {"status": "ok"}


def test_healthz_is_503_when_the_database_does_not(database, tmp_path):
    if database.backend == "sqlite":
        url = f"sqlite:///{tmp_path}/missing-dir/nothing.sqlite"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"
    app = main({}, **dict(BASE_SETTINGS, **{"sqlalchemy.url": url}))
    response = webtest.TestApp(app).get("/healthz", status=503)
    assert response.headers["Retry-After"].isdigit()
    assert b"Traceback" not in response.body
    app.registry.dh_engine.dispose()
