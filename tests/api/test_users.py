"""Profiles: reading, finding, editing, and changing the email (sudo, session only)."""
from __future__ import annotations

from sqlalchemy import select

from dragonhoard.models import AuditEvent, User

from ..factories import PASSWORD
from ..helpers import bearer, login


def test_profiles_show_the_email_to_self_and_admins(testapp, factory):
    me, other = factory.user(), factory.user()
    admin = factory.user(is_admin=True)
    login(testapp, me)
    assert "email" in testapp.get(f"/api/users/{me.id}").json
    body = testapp.get(f"/api/users/{other.id}").json
    assert body == {"id": other.id, "username": other.username, "is_admin": False,
                    "created_at": body["created_at"]}
    login(testapp, admin)
    assert testapp.get(f"/api/users/{other.id}").json["email"] == other.email
    testapp.get("/api/users/999999", status=404)


def test_find_by_username_case_insensitively(testapp, factory):
    me = factory.user()
    target = factory.user(username="Bard_the-Bowman")
    login(testapp, me)
    found = testapp.get("/api/users?username=bard_THE-bowman").json
    assert [u["id"] for u in found["items"]] == [target.id] and found["total"] == 1
    assert "email" not in found["items"][0]
    assert testapp.get("/api/users?username=nobody").json["items"] == []


def test_edit_username_and_conflicts(testapp, factory):
    me = factory.user()
    factory.user(username="Taken")
    headers = {"X-CSRF-Token": login(testapp, me)}
    assert testapp.patch_json(f"/api/users/{me.id}", {"username": "Smaug"}, headers=headers).json[
        "username"] == "Smaug"
    response = testapp.patch_json(f"/api/users/{me.id}", {"username": "taken"}, headers=headers, status=409)
    assert "username" in response.json["fields"]
    for body in ({"is_admin": True}, {"id": 5}, {"created_at": "2026-01-01T00:00:00Z"},
                 {"username": "x"}, {"password": "whatever-it-is"}):
        testapp.patch_json(f"/api/users/{me.id}", body, headers=headers, status=422)


def test_email_change_needs_sudo_and_is_logged(testapp, factory, clock, dbsession):
    me = factory.user()
    factory.user(email="taken@example.com")
    headers = {"X-CSRF-Token": login(testapp, me)}
    response = testapp.patch_json(f"/api/users/{me.id}", {"email": "TAKEN@example.com"},
                                  headers=headers, status=409)
    assert "email" in response.json["fields"]
    changed = testapp.patch_json(f"/api/users/{me.id}", {"email": "new@example.com"}, headers=headers).json
    assert changed["email"] == "new@example.com"
    clock.advance(seconds=901)
    response = testapp.patch_json(f"/api/users/{me.id}", {"email": "newer@example.com"},
                                  headers=headers, status=403)
    assert response.json["error"] == "reauth_required"
    testapp.post_json("/api/sudo", {"password": PASSWORD}, headers=headers)
    testapp.patch_json(f"/api/users/{me.id}", {"email": "newer@example.com"}, headers=headers)
    assert dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind == "email:changed")).all() == [
        "email:changed", "email:changed"]
    dbsession.expire_all()
    assert dbsession.get(User, me.id).email_canonical == "newer@example.com"


def test_a_token_never_changes_an_email(testapp, factory):
    me, other = factory.user(), factory.user()
    _row, secret = factory.token(me, scopes=["user:edit", "user:read"])
    for user_id in (me.id, other.id):
        response = testapp.patch_json(f"/api/users/{user_id}", {"email": "x@example.com"},
                                      headers=bearer(secret), status=403)
        assert response.json["error"] == "session_required"
    testapp.patch_json("/api/users/999999", {"email": "x@example.com"}, headers=bearer(secret), status=404)
    assert testapp.patch_json(f"/api/users/{me.id}", {"username": "Renamed"},
                              headers=bearer(secret)).json["username"] == "Renamed"


def test_admins_edit_others_but_not_their_passwords(testapp, factory):
    admin, other = factory.user(is_admin=True), factory.user()
    headers = {"X-CSRF-Token": login(testapp, admin)}
    testapp.patch_json(f"/api/users/{other.id}", {"username": "Renamed"}, headers=headers)
    testapp.patch_json(f"/api/users/{other.id}", {"password": "a-new-password-for-you"},
                       headers=headers, status=422)


def test_a_malformed_body_is_judged_after_the_permissions(testapp, factory):
    me, other = factory.user(), factory.user()
    headers = {"X-CSRF-Token": login(testapp, me)}
    testapp.patch(f"/api/users/{other.id}", "{bad", content_type="application/json", headers=headers,
                  status=403)
    testapp.patch(f"/api/users/{other.id}", "x", content_type="text/plain", headers=headers, status=403)
    testapp.patch(f"/api/users/{me.id}", "{bad", content_type="application/json", headers=headers,
                  status=400)
    _row, secret = factory.token(me, scopes=["user:read"])
    response = testapp.patch(f"/api/users/{me.id}", "{bad", content_type="application/json",
                             headers=bearer(secret), status=403)
    assert response.json["error"] == "insufficient_scope"
