"""JSON and form login and logout, cookies, fixation, timeouts (DESIGN section 4)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, LoginSession, User
from dragonhoard.security.tokens import hash_token

from ..factories import PASSWORD
from ..helpers import api_login, caller_id, form_login, login, row_counts


def test_json_login_me_and_logout(testapp, factory, dbsession):
    user = factory.user(email="Smaug@Erebor.example")
    response = api_login(testapp, "smaug@erebor.EXAMPLE")
    assert response.json["user"]["id"] == user.id
    assert response.json["user"]["email"] == "Smaug@Erebor.example"
    csrf = response.json["csrf_token"]
    assert response.headers["Cache-Control"] == "no-store"

    me = testapp.get("/api/me").json
    assert me["auth"] == "session" and me["user"]["username"] == user.username
    assert len(me["scopes"]) == 8 and "admin" not in me["scopes"]

    testapp.post("/api/logout", headers={"X-CSRF-Token": csrf}, status=204)
    response = testapp.get("/api/me", status=401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="dragonhoard"'
    assert dbsession.scalars(select(LoginSession.revoked_at)).one() is not None


def test_an_admins_session_holds_nine_scopes(testapp, factory):
    login(testapp, factory.user(is_admin=True))
    assert len(testapp.get("/api/me").json["scopes"]) == 9


def test_me_without_anyone_is_401_with_the_challenge(testapp):
    response = testapp.get("/api/me", status=401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="dragonhoard"'
    assert response.json["error"] == "unauthorized"


def test_json_login_takes_json_only(testapp, factory):
    user = factory.user()
    response = testapp.post("/api/login", {"email": user.email, "password": PASSWORD}, status=415)
    assert response.json["error"] == "unsupported_media_type"
    testapp.post("/api/login", "{not json", content_type="application/json", status=400)
    response = testapp.post_json("/api/login", {"email": user.email}, status=422)
    assert "password" in response.json["fields"]
    testapp.get("/api/me", status=401)


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Referer": "http://evil.example/page"},
    {"Origin": "https://localhost"},
])
def test_json_login_from_another_origin_is_refused(testapp, factory, headers):
    user = factory.user()
    response = api_login(testapp, user.email, headers=headers, status=403)
    assert response.json["error"] == "csrf_failed"
    testapp.get("/api/me", status=401)


def test_json_login_from_our_own_origin_is_fine(testapp, factory):
    user = factory.user()
    api_login(testapp, user.email, headers={"Origin": "http://localhost"})
    assert caller_id(testapp) == user.id


def test_same_answer_for_unknown_email_and_wrong_password(testapp, factory):
    user = factory.user()
    wrong = api_login(testapp, user.email, "not-the-password", status=401)
    unknown = api_login(testapp, "nobody@example.com", "not-the-password", status=401)
    assert wrong.json == unknown.json == {
        "error": "invalid_credentials", "message": "The email or the password is wrong."
    }
    form_wrong = form_login(testapp, user.email, "not-the-password", status=400)
    form_unknown = form_login(testapp, "nobody@example.com", "not-the-password", status=400)
    assert "The email or the password is wrong." in form_wrong.text
    assert form_wrong.text.replace(user.email, "X") == form_unknown.text.replace("nobody@example.com", "X")


def test_a_deactivated_user_gets_the_generic_answer(testapp, factory, dbsession):
    user = factory.user(is_active=False)
    api_login(testapp, user.email, status=401)
    kinds = dbsession.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["login:failure"]


def test_form_login_redirects_to_next_and_logout_to_login(testapp, factory, dbsession):
    user = factory.user()
    response = form_login(testapp, user.email, next_path="/account/sessions", status=303)
    assert response.location.endswith("/account/sessions")
    page = testapp.get("/account/sessions")
    assert user.username in page.text
    logout_form = next(f for f in page.forms.values() if f.action == "/logout")
    response = logout_form.submit(status=303)
    assert response.location.endswith("/login")
    assert testapp.get("/account/sessions", status=303).location.endswith(
        "/login?next=%2Faccount%2Fsessions"
    )
    assert dbsession.scalars(select(LoginSession.revoked_at)).one() is not None


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "javascript:alert(1)", "/%09/evil.example".replace("%09", "\t"),
    "evil.example", "",
])
def test_open_redirect_attempts_land_on_the_root(testapp, factory, target):
    user = factory.user()
    response = form_login(testapp, user.email, forced_next=target, status=303)
    assert response.location == "/"


def test_a_same_site_next_is_kept(testapp, factory):
    user = factory.user()
    response = form_login(testapp, user.email, next_path="/account/security%3Fpage%3D2", status=303)
    assert response.location == "/account/security?page=2"


def test_cookie_flags_in_development(testapp, factory):
    user = factory.user()
    response = api_login(testapp, user.email)
    cookie = next(v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("dh_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


HTTPS = {"wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "SERVER_PORT": "443"}


def test_cookie_flags_in_production(make_testapp, factory):
    testapp = make_testapp(dragonhoard__cookie_secure="true")
    user = factory.user()
    response = api_login(testapp, user.email, extra_environ=HTTPS,
                         headers={"Origin": "https://localhost"})
    cookies = [v for k, v in response.headerlist if k == "Set-Cookie"]
    session_cookie = next(c for c in cookies if c.startswith("__Host-dh_session="))
    state_cookie = next(c for c in cookies if c.startswith("__Host-dh_state="))
    for cookie in (session_cookie, state_cookie):
        attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(attributes)
        assert not any(a.startswith("domain") for a in attributes)


def test_a_planted_cookie_never_becomes_a_login(testapp, factory, dbsession):
    """Session fixation: the secret a browser had before login is not the one after."""
    user = factory.user()
    planted = "attacker-chosen-value-0123456789abcdefghijk"
    testapp.set_cookie("dh_session", planted)
    api_login(testapp, user.email)
    assert testapp.cookies["dh_session"] != planted
    assert dbsession.scalar(
        select(LoginSession.id).where(LoginSession.secret_hash == hash_token(planted))
    ) is None
    # The attacker, holding the planted value, is nobody.
    testapp.reset()
    testapp.set_cookie("dh_session", planted)
    testapp.get("/api/me", status=401)


def test_a_new_secret_at_every_login(testapp, factory, dbsession):
    user = factory.user()
    api_login(testapp, user.email)
    first = testapp.cookies["dh_session"]
    api_login(testapp, user.email)
    second = testapp.cookies["dh_session"]
    assert first != second
    sessions = dbsession.scalars(select(LoginSession).order_by(LoginSession.id)).all()
    assert [s.revoked_at is not None for s in sessions] == [True, False]
    testapp.reset()
    testapp.set_cookie("dh_session", first)
    testapp.get("/api/me", status=401)


def test_the_csrf_token_changes_at_login(testapp, factory):
    user = factory.user()
    page = testapp.get("/login")
    before = page.forms[0]["csrf_token"].value
    after = login(testapp, user)
    assert before != after


def test_the_cookie_holds_a_secret_whose_hash_is_stored(testapp, factory, dbsession):
    user = factory.user()
    api_login(testapp, user.email)
    secret = testapp.cookies["dh_session"]
    row = dbsession.scalars(select(LoginSession)).one()
    assert row.secret_hash == hash_token(secret) and secret not in row.secret_hash
    assert row.user_id == user.id and row.ip == "192.0.2.10"


def test_a_revoked_session_is_refused_on_the_next_request(testapp, factory, dbsession):
    user = factory.user()
    login(testapp, user)
    assert caller_id(testapp) == user.id
    row = dbsession.scalars(select(LoginSession)).one()
    row.revoked_at = row.created_at
    dbsession.commit()
    testapp.get("/api/me", status=401)
    assert testapp.get("/account/sessions", status=303).location.startswith("/login?next=")


def test_idle_and_absolute_timeouts(make_testapp, factory, clock):
    testapp = make_testapp(dragonhoard__session_idle_seconds="600",
                           dragonhoard__session_max_seconds="3600")
    user = factory.user()
    login(testapp, user)
    clock.advance(seconds=599)
    assert caller_id(testapp) == user.id          # used within the idle window: extended
    clock.advance(seconds=599)
    assert caller_id(testapp) == user.id
    clock.advance(seconds=601)      # idle too long
    testapp.get("/api/me", status=401)

    login(testapp, user)
    for _ in range(6):              # used every 9 minutes: never idle...
        clock.advance(seconds=540)
        assert caller_id(testapp) == user.id
    clock.advance(seconds=540)      # ...but an hour is the most a session lives
    testapp.get("/api/me", status=401)


def test_last_seen_is_written_at_most_once_a_minute(testapp, factory, dbsession, clock):
    user = factory.user()
    login(testapp, user)
    seen = dbsession.scalars(select(LoginSession.last_seen_at)).one()
    clock.advance(seconds=30)
    assert caller_id(testapp) == user.id
    dbsession.expire_all()
    assert dbsession.scalars(select(LoginSession.last_seen_at)).one() == seen
    clock.advance(seconds=31)
    assert caller_id(testapp) == user.id
    dbsession.expire_all()
    assert dbsession.scalars(select(LoginSession.last_seen_at)).one() == clock.at


def test_login_upgrades_an_old_hash(make_testapp, factory, dbsession):
    user = factory.user()  # hashed with time_cost=1
    old_hash = user.password_hash
    testapp = make_testapp(dragonhoard__argon2__time_cost="2")
    login(testapp, user)
    dbsession.expire_all()
    new_hash = dbsession.get(User, user.id).password_hash
    assert "t=1" in old_hash and "t=2" in new_hash
    login(testapp, user)


def test_a_refused_login_writes_only_its_counters_and_its_audit_row(testapp, factory, dbsession):
    user = factory.user()
    before = row_counts(dbsession)
    api_login(testapp, user.email, "wrong-password", status=401)
    after = row_counts(dbsession)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"throttle_hits", "audit_events"}
    event = dbsession.scalars(select(AuditEvent)).one()
    assert (event.kind, event.user_id, event.ip) == ("login:failure", user.id, "192.0.2.10")
    assert "wrong-password" not in str(event.details)


def test_a_failure_for_an_unknown_email_is_in_nobodys_log(testapp, dbsession):
    api_login(testapp, "nobody@example.com", "whatever-it-is", status=401)
    event = dbsession.scalars(select(AuditEvent)).one()
    assert event.kind == "login:failure" and event.user_id is None
