"""Listing and revoking sessions; the password change (DESIGN sections 4 and 7)."""
from __future__ import annotations

from sqlalchemy import select

from dragonhoard.models import AuditEvent, LoginSession, User

from ..factories import PASSWORD
from ..helpers import api_login, bearer, caller_id, login

NEW_PASSWORD = "a-brand-new-hoard-password-77"


def test_list_marks_the_current_session_and_omits_dead_ones(testapp, factory, clock):
    user = factory.user()
    stranger = factory.user()
    other, _ = factory.login_session(user, user_agent="Other browser")
    factory.login_session(user, revoked_at=clock.at)
    factory.login_session(user, created_at=clock.at.replace(year=2020))  # expired long ago
    factory.login_session(stranger)
    login(testapp, user)
    body = testapp.get("/api/sessions").json
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 20
    current = [item for item in body["items"] if item["current"]]
    assert len(current) == 1 and current[0]["ip"] == "192.0.2.10"
    assert {item["id"] for item in body["items"] if not item["current"]} == {other.id}
    assert set(body["items"][0]) == {
        "id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "current"
    }


def test_revoke_one_session(testapp, factory, dbsession):
    user = factory.user()
    other, other_secret = factory.login_session(user)
    csrf = login(testapp, user)
    testapp.delete(f"/api/sessions/{other.id}", headers={"X-CSRF-Token": csrf}, status=204)
    dbsession.expire_all()
    assert dbsession.get(LoginSession, other.id).revoked_at is not None
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "session:revoked")).one()
    assert event.details == {"session_id": other.id}
    assert caller_id(testapp) == user.id


def test_another_users_session_is_not_found(testapp, factory, dbsession):
    user = factory.user()
    theirs, _ = factory.login_session(factory.user())
    csrf = login(testapp, user)
    testapp.delete(f"/api/sessions/{theirs.id}", headers={"X-CSRF-Token": csrf}, status=404)
    dbsession.expire_all()
    assert dbsession.get(LoginSession, theirs.id).revoked_at is None


def test_revoke_all_others(testapp, factory, dbsession):
    user = factory.user()
    for _ in range(3):
        factory.login_session(user)
    csrf = login(testapp, user)
    testapp.delete("/api/sessions", headers={"X-CSRF-Token": csrf}, status=204)
    assert testapp.get("/api/sessions").json["total"] == 1


def test_sessions_and_events_answer_a_token_session_required(testapp, factory):
    user = factory.user()
    _row, secret = factory.token(user, scopes=["user:read", "user:edit"])
    for method, path in (("get", "/api/sessions"), ("delete", "/api/sessions"),
                         ("delete", "/api/sessions/99999"), ("get", "/api/events"),
                         ("post", "/api/sudo"), ("post", "/api/account/password"),
                         ("post", "/api/logout")):
        response = getattr(testapp, method)(path, headers=bearer(secret), status=403)
        assert response.json["error"] == "session_required", path
        assert "WWW-Authenticate" not in response.headers


def test_sessions_need_a_caller(testapp):
    testapp.get("/api/sessions", status=401)
    testapp.get("/api/events", status=401)


def test_password_change_revokes_other_sessions_and_keeps_tokens(testapp, factory, dbsession):
    user = factory.user()
    other, other_secret = factory.login_session(user)
    _token, token_secret = factory.token(user)
    csrf = login(testapp, user)
    testapp.post_json("/api/account/password",
                      {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      headers={"X-CSRF-Token": csrf}, status=204)
    assert caller_id(testapp) == user.id  # this browser goes on
    dbsession.expire_all()
    assert dbsession.get(LoginSession, other.id).revoked_at is not None
    assert caller_id(testapp, headers=bearer(token_secret)) == user.id
    assert dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind == "password:changed")).one()
    other_browser = testapp.__class__(testapp.app, extra_environ=testapp.extra_environ)
    other_browser.set_cookie("dh_session", other_secret)
    other_browser.get("/api/me", status=401)
    api_login(other_browser, user.email, PASSWORD, status=401)
    api_login(other_browser, user.email, NEW_PASSWORD)


def test_password_change_with_a_wrong_current_password(testapp, factory, dbsession):
    user = factory.user()
    csrf = login(testapp, user)
    response = testapp.post_json("/api/account/password",
                                 {"current_password": "wrong", "new_password": NEW_PASSWORD},
                                 headers={"X-CSRF-Token": csrf}, status=403)
    assert response.json["error"] == "invalid_password"
    dbsession.expire_all()
    assert dbsession.get(User, user.id).password_hash == user.password_hash


def test_password_change_refuses_a_weak_password(testapp, factory):
    user = factory.user()
    csrf = login(testapp, user)
    response = testapp.post_json("/api/account/password",
                                 {"current_password": PASSWORD, "new_password": "password123"},
                                 headers={"X-CSRF-Token": csrf}, status=422)
    assert "new_password" in response.json["fields"]


def test_password_change_outside_sudo_needs_reauth(testapp, factory, clock):
    user = factory.user()
    csrf = login(testapp, user)
    clock.advance(seconds=901)
    response = testapp.post_json("/api/account/password",
                                 {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                                 headers={"X-CSRF-Token": csrf}, status=403)
    assert response.json["error"] == "reauth_required"
    until = testapp.post_json("/api/sudo", {"password": PASSWORD},
                              headers={"X-CSRF-Token": csrf}).json["sudo_until"]
    assert until.endswith("Z")
    testapp.post_json("/api/account/password",
                      {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      headers={"X-CSRF-Token": csrf}, status=204)


def test_a_wrong_sudo_password_is_403_and_counts(make_testapp, factory, dbsession, clock):
    testapp = make_testapp(dragonhoard__throttle__account_address_limit="2")
    user = factory.user()
    csrf = login(testapp, user)
    for _ in range(2):
        response = testapp.post_json("/api/sudo", {"password": "wrong"},
                                     headers={"X-CSRF-Token": csrf}, status=403)
        assert response.json["error"] == "invalid_password"
    response = testapp.post_json("/api/sudo", {"password": PASSWORD},
                                 headers={"X-CSRF-Token": csrf}, status=429)
    assert response.headers["Retry-After"].isdigit()
    kinds = dbsession.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["login:success", "sudo:failure", "sudo:failure", "login:throttled"]


def test_events_are_the_callers_own_newest_first(testapp, factory, clock):
    user = factory.user()
    stranger = factory.user()
    factory.audit_event("token:created", stranger, created_at=clock.at)
    api_login(testapp, user.email, "wrong-password", status=401)
    clock.advance(seconds=5)
    csrf = login(testapp, user)
    clock.advance(seconds=5)
    testapp.delete("/api/sessions", headers={"X-CSRF-Token": csrf}, status=204)
    body = testapp.get("/api/events").json
    assert [item["kind"] for item in body["items"]] == ["session:revoked", "login:success", "login:failure"]
    assert body["total"] == 3
    first = body["items"][-1]
    assert set(first) == {"id", "kind", "created_at", "ip", "details"}
    assert first["ip"] == "192.0.2.10" and first["created_at"].endswith("Z")
    page = testapp.get("/api/events?per_page=1&page=2").json
    assert [item["kind"] for item in page["items"]] == ["login:success"] and page["total"] == 3
    testapp.get("/api/events?page=0", status=422)
    assert testapp.get("/api/events?per_page=1000").json["per_page"] == 100


def test_the_csrf_token_outlives_a_password_change(testapp, factory):
    user = factory.user()
    csrf = login(testapp, user)
    testapp.post_json("/api/account/password",
                      {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      headers={"X-CSRF-Token": csrf}, status=204)
    testapp.post("/api/logout", headers={"X-CSRF-Token": csrf}, status=204)
