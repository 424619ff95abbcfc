"""Registration through the JSON API and the page (DESIGN sections 2, 4 and 7)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, User

GOOD = {"email": "Fafnir@Gnitaheath.example", "username": "Fafnir", "password": "gold-under-gnitaheath-42"}


def test_register_answers_201_with_the_user_and_does_not_log_in(testapp, dbsession):
    response = testapp.post_json("/api/users", GOOD, status=201)
    assert set(response.json) == {"id", "username", "email", "is_admin", "created_at"}
    assert response.json["email"] == "Fafnir@gnitaheath.example"  # the domain is normalised
    assert response.json["is_admin"] is False
    assert "Set-Cookie" not in response.headers
    testapp.get("/api/me", status=401)
    user = dbsession.scalars(select(User)).one()
    assert user.password_hash.startswith("$argon2id$") and GOOD["password"] not in user.password_hash
    assert dbsession.scalars(select(AuditEvent.kind)).all() == ["user:registered"]


@pytest.mark.parametrize("change, field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"username": "x"}, "username"),
    ({"username": "has space"}, "username"),
    ({"username": "a" * 40}, "username"),
    ({"password": "short"}, "password"),
    ({"password": "password1234"}, "password"),
    ({"password": "x" * 129}, "password"),
    ({"password": "x" * 5000}, "password"),
    ({"password": 12345678901}, "password"),
    ({"is_admin": True}, "is_admin"),
])
def test_bad_fields_are_422_and_create_nothing(testapp, dbsession, change, field):
    response = testapp.post_json("/api/users", dict(GOOD, **change), status=422)
    assert response.json["error"] == "validation_failed"
    assert field in response.json["fields"]
    assert dbsession.scalars(select(User.id)).all() == []


def test_weak_passwords_get_zxcvbn_feedback(testapp):
    response = testapp.post_json("/api/users", dict(GOOD, password="fafnir1234"), status=422)
    message = response.json["fields"]["password"]
    assert message and message != "Value error"


def test_duplicates_are_409(testapp, factory):
    factory.user(email="fafnir@gnitaheath.example", username="someone")
    response = testapp.post_json("/api/users", GOOD, status=409)
    assert response.json["fields"] == {"email": "This email address is already registered."}
    factory.user(email="other@example.com", username="FAFNIR2")
    response = testapp.post_json("/api/users", dict(GOOD, email="new@example.com", username="fafnir2"),
                                 status=409)
    assert "username" in response.json["fields"]


def test_bad_bodies(testapp):
    testapp.post("/api/users", "[1, 2]", content_type="application/json", status=400)
    testapp.post("/api/users", b"\xff\xfe", content_type="application/json", status=400)
    testapp.post("/api/users", "email=a", content_type="application/x-www-form-urlencoded", status=415)
    response = testapp.post("/api/users", "x" * (1024 * 1024 + 1), content_type="application/json",
                            status=413)
    assert response.json["error"] == "request_too_large"


def test_register_page(testapp, dbsession):
    page = testapp.get("/register")
    form = page.forms[0]
    form["email"] = GOOD["email"]
    form["username"] = GOOD["username"]
    form["password"] = "weak"
    response = form.submit(status=400)
    assert "Use at least 10 characters." in response.text
    form = response.forms[0]
    form["password"] = GOOD["password"]
    response = form.submit(status=303)
    assert response.location.endswith("/login")
    assert "Your account is ready" in response.follow().text
    assert dbsession.scalars(select(User.username)).all() == ["Fafnir"]
