"""The account pages: sessions, password (behind the sudo prompt), security log."""
from __future__ import annotations

from dragonhoard.models import LoginSession, User

from ..factories import PASSWORD
from ..helpers import form_login, login

NEW_PASSWORD = "a-brand-new-hoard-password-77"


def test_pages_need_a_login(testapp):
    for path in ("/account/sessions", "/account/password", "/account/security"):
        response = testapp.get(path, status=303)
        assert "/login?next=" in response.location


def test_every_page_sends_the_security_headers(testapp):
    response = testapp.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.text and " onclick=" not in response.text


def test_sessions_page_revokes(testapp, factory, dbsession):
    user = factory.user()
    other, _ = factory.login_session(user, user_agent="Grandma's laptop")
    form_login(testapp, user.email)
    page = testapp.get("/account/sessions")
    assert "Grandma&#39;s laptop" in page.text and "this session" in page.text
    form = next(f for f in page.forms.values() if f.action == f"/account/sessions/{other.id}/revoke")
    page = form.submit(status=303).follow()
    assert "The session is revoked." in page.text
    dbsession.expire_all()
    assert dbsession.get(LoginSession, other.id).revoked_at is not None


def test_password_page_asks_for_the_password_again_outside_sudo(testapp, factory, clock):
    user = factory.user()
    form_login(testapp, user.email)
    clock.advance(seconds=901)
    page = testapp.get("/account/password")
    assert "Confirm your password" in page.text
    form = page.forms[1]
    form["password"] = "wrong"
    response = form.submit(status=403)
    assert "The password is wrong." in response.text
    form = response.forms[1]
    form["password"] = PASSWORD
    page = form.submit(status=303).follow()
    assert "Change your password" in page.text
    form = page.forms[1]
    form["current_password"] = PASSWORD
    form["new_password"] = NEW_PASSWORD
    form["confirm_password"] = NEW_PASSWORD
    page = form.submit(status=303).follow()
    assert "Your password is changed" in page.text


def test_security_page_lists_events(testapp, factory):
    user = factory.user()
    form_login(testapp, user.email, "wrong-password", status=400)
    form_login(testapp, user.email)
    page = testapp.get("/account/security")
    assert "login:failure" in page.text and "login:success" in page.text


def test_a_bearer_token_cannot_use_account_pages(testapp, factory):
    user = factory.user()
    _row, secret = factory.token(user, scopes=["user:read", "user:edit"])
    response = testapp.get("/account/sessions", headers={"Authorization": f"Bearer {secret}"}, status=403)
    assert "tokens cannot do this" in response.text


def test_pages_and_cookies_are_never_stored(testapp, factory):
    response = testapp.get("/login")
    assert any(k == "Set-Cookie" and v.startswith("dh_state=") for k, v in response.headerlist)
    assert response.headers["Cache-Control"] == "no-store"
    user = factory.user()
    form_login(testapp, user.email)
    for path in ("/", "/tokens", "/account/sessions", "/account/security"):
        assert testapp.get(path).headers["Cache-Control"] == "no-store", path


def test_the_dashboard_keeps_the_current_project_in_the_session(testapp, factory):
    user = factory.user()
    mine = factory.project(slug="erebor", name="Erebor", members={user: "viewer"})
    factory.project(slug="angband", name="Angband")
    form_login(testapp, user.email)
    page = testapp.get("/")
    assert page.html.find(id="dashboard")["data-project"] == ""
    form = page.forms["project-switcher"]
    form["project"].force_value(mine.slug)
    page = form.submit(status=303).follow()
    assert page.html.find(id="dashboard")["data-project"] == "erebor" and "Erebor" in page.text
    form = page.forms["project-switcher"]
    form["project"].force_value("angband")  # not the user's: the choice is cleared
    page = form.submit(status=303).follow()
    assert page.html.find(id="dashboard")["data-project"] == ""


def test_the_sudo_and_password_forms_validate_like_their_json_twins(testapp, factory, dbsession):
    """Every form field passes the same validation as the JSON body: a NUL or
    an overlong password is a 400 with the form again, and changes nothing."""
    user = factory.user()
    csrf = login(testapp, user)
    for password in ("\x00", "x" * 5000, ""):
        page = testapp.post("/account/sudo", {"csrf_token": csrf, "password": password,
                                              "next": "/tokens"}, status=400)
        assert "Enter your password" in page.text
        page = testapp.post("/account/password", {"csrf_token": csrf, "current_password": password,
                                                  "new_password": "a-brand-new-passphrase-77",
                                                  "confirm_password": "a-brand-new-passphrase-77"},
                            status=400)
        assert "current_password" in page.text or "password" in page.text
    dbsession.expire_all()
    assert dbsession.get(User, user.id).password_hash == user.password_hash
