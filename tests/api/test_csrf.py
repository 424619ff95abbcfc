"""CSRF: cookie-authenticated unsafe requests need the token and our origin."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import LoginSession

from ..factories import PASSWORD
from ..helpers import bearer, login


@pytest.fixture
def logged_in(testapp, factory):
    user = factory.user()
    csrf = login(testapp, user)
    return testapp, user, csrf


def other_sessions(dbsession, user):
    dbsession.expire_all()
    return dbsession.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    ).all()


def test_without_the_token_it_is_refused(logged_in, factory, dbsession):
    testapp, user, _csrf = logged_in
    factory.login_session(user)
    response = testapp.delete("/api/sessions", status=403)
    assert response.json["error"] == "csrf_failed"
    assert len(other_sessions(dbsession, user)) == 2


def test_a_wrong_token_is_refused(logged_in):
    testapp, _user, _csrf = logged_in
    testapp.delete("/api/sessions", headers={"X-CSRF-Token": "0" * 32}, status=403)


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Referer": "http://evil.example/attack.html"},
    {"Origin": "http://localhost:8080"},
])
def test_another_origin_is_refused_even_with_the_token(logged_in, headers):
    testapp, _user, csrf = logged_in
    response = testapp.delete("/api/sessions", headers=dict(headers, **{"X-CSRF-Token": csrf}),
                              status=403)
    assert response.json["error"] == "csrf_failed"


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"},
                                     {"Referer": "http://localhost/account/sessions"}])
def test_with_the_token_from_our_origin_it_is_accepted(logged_in, factory, dbsession, headers):
    testapp, user, csrf = logged_in
    factory.login_session(user)
    testapp.delete("/api/sessions", headers=dict(headers, **{"X-CSRF-Token": csrf}), status=204)
    assert len(other_sessions(dbsession, user)) == 1


def test_the_token_works_as_a_form_field(logged_in):
    testapp, _user, csrf = logged_in
    testapp.post("/logout", {"csrf_token": csrf}, status=303)
    testapp.get("/api/me", status=401)


def test_form_logout_without_the_token_is_a_clear_page(logged_in):
    testapp, _user, _csrf = logged_in
    response = testapp.post("/logout", status=403)
    assert "text/html" in response.content_type
    assert "reload the page" in response.text
    testapp.get("/api/me")


def test_pre_login_forms_need_the_token(testapp, factory):
    user = factory.user()
    testapp.get("/login")
    response = testapp.post("/login", {"email": user.email, "password": "x"}, status=403)
    assert "text/html" in response.content_type
    testapp.post("/register", {"email": "a@example.com", "username": "abc", "password": "x"},
                 status=403)


def test_an_authorization_header_exempts_nothing(logged_in):
    """The cookie still holds a live session; a header that is not a valid
    token does not make the request token-authenticated."""
    testapp, _user, _csrf = logged_in
    for header in ("Basic Zm9vOmJhcg==", "Bearer not-a-token"):
        response = testapp.delete("/api/sessions", headers={"Authorization": header}, status="*")
        assert response.status_int in (400, 401)
    testapp.get("/api/me")


def test_a_bearer_identity_needs_no_csrf_token(testapp, factory):
    user = factory.user()
    _row, secret = factory.token(user)
    testapp.delete("/api/tokens/self", headers=bearer(secret), status=204)


def test_the_pre_login_token_dies_at_login(testapp, factory):
    """Once there is a login session the CSRF token belongs to it (DESIGN section 4)."""
    user = factory.user()
    page = testapp.get("/login")
    before = page.forms[0]["csrf_token"].value
    form = page.forms[0]
    form["email"], form["password"] = user.email, PASSWORD
    form.submit(status=303)
    response = testapp.delete("/api/sessions", headers={"X-CSRF-Token": before}, status=403)
    assert response.json["error"] == "csrf_failed"
    after = testapp.get("/account/sessions").forms[0]["csrf_token"].value
    assert after != before
    testapp.delete("/api/sessions", headers={"X-CSRF-Token": after}, status=204)


def test_a_token_of_another_login_session_is_refused(make_testapp, factory):
    """The state cookie and its token, carried over to another login session
    (of the same user or another), do not count for it."""
    state_cookie = "dh_state"
    user = factory.user()
    first, second = make_testapp(), make_testapp()
    csrf_first = login(first, user)
    login(second, user)
    # The second browser with the first one's state cookie and token.
    second.set_cookie(state_cookie, first.cookies[state_cookie])
    response = second.delete("/api/sessions", headers={"X-CSRF-Token": csrf_first}, status=403)
    assert response.json["error"] == "csrf_failed"
    first.delete("/api/sessions", headers={"X-CSRF-Token": csrf_first}, status=204)
    # After logout and a new login, the old token is dead too.
    first.post_json("/api/logout", headers={"X-CSRF-Token": csrf_first}, status=204)
    fresh = login(first, user)
    assert fresh != csrf_first
    first.delete("/api/sessions", headers={"X-CSRF-Token": csrf_first}, status=403)


def test_a_password_change_keeps_the_pages_token(logged_in):
    """The same browser goes on after its session was replaced by the change."""
    testapp, _user, csrf = logged_in
    testapp.post_json("/api/account/password", {"current_password": PASSWORD,
                                                "new_password": "a-brand-new-passphrase-77"},
                      headers={"X-CSRF-Token": csrf}, status=204)
    testapp.delete("/api/sessions", headers={"X-CSRF-Token": csrf}, status=204)


def test_the_state_cookie_has_a_lifetime(testapp):
    """It used to live for ever; now as long as a login may (session_max_seconds)."""
    response = testapp.get("/login")
    cookies = [value for name, value in response.headerlist if name == "Set-Cookie"]
    assert len(cookies) == 1 and cookies[0].startswith("dh_state=")
    assert "Max-Age=1209600" in cookies[0]
