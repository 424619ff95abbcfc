"""Emails whose casefolded form is longer than what was typed (``ß`` becomes
``ss``, ``ﬃ`` becomes ``ffi``) are bounded by the stored form: a clear 4xx on
every route that takes an email, never a 500, and nothing written."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dragonhoard.models import User, get_engine

from ..factories import PASSWORD
from ..helpers import form_login, login, row_counts

# 64 + 1 + 189 = 254 characters as typed, 382 once casefolded.
GROWING = "\ufb03" * 64 + "@" + "b" * 62 + "." + "c" * 62 + "." + "d" * 60 + ".ex"
SHARP = "stra\u00dfe" * 8 + "@example.com"


def test_the_examples_grow():
    assert len(GROWING) <= 254 < len(GROWING.casefold())
    assert len(SHARP.casefold()) > len(SHARP)


def test_registration_refuses_an_email_too_long_once_casefolded(testapp, dbsession):
    before = row_counts(dbsession)
    response = testapp.post_json("/api/users", {"email": GROWING, "username": "growing",
                                                "password": PASSWORD}, status=422)
    assert "too long" in response.json["fields"]["email"]
    page = testapp.get("/register")
    form = page.forms[0]
    form["email"], form["username"], form["password"] = GROWING, "growing", PASSWORD
    assert "too long" in form.submit(status=400).text
    assert row_counts(dbsession) == before


def test_login_with_such_an_email_is_a_plain_failure(testapp, dbsession):
    for _ in range(2):
        response = testapp.post_json("/api/login", {"email": GROWING, "password": PASSWORD}, status=401)
        assert response.json["error"] == "invalid_credentials"
        form_login(testapp, GROWING, status=400)
    assert dbsession.scalars(select(User.id)).all() == []


def test_an_email_change_to_such_an_email_is_refused(testapp, factory):
    user = factory.user()
    csrf = login(testapp, user)
    response = testapp.patch_json(f"/api/users/{user.id}", {"email": GROWING},
                                  headers={"X-CSRF-Token": csrf}, status=422)
    assert "too long" in response.json["fields"]["email"]


def test_a_sharp_s_email_registers_and_logs_in_casefolded(testapp):
    testapp.post_json("/api/users", {"email": SHARP, "username": "sharp", "password": PASSWORD},
                      status=201)
    testapp.post_json("/api/login", {"email": SHARP.upper(), "password": PASSWORD}, status=200)


def test_statement_parameters_never_reach_an_error_or_the_log(database, caplog):
    """A failed statement's text holds the SQL, never its parameters (a password
    hash, a token hash, an email)."""
    engine = get_engine({"sqlalchemy.url": database.url})
    secret = "$argon2id$v=19$secret-hash-that-must-not-be-logged"
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(DBAPIError) as failure, engine.connect() as conn:
            conn.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": secret})
        logging.getLogger("test").error("failed", exc_info=failure.value)
    engine.dispose()
    assert secret not in str(failure.value)
    assert secret not in caplog.text
    assert "hide_parameters" in str(failure.value)
