"""Personal access tokens through the JSON API (DESIGN sections 3 and 7)."""
from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import delete, select

from dragonhoard.models import ApiToken, AuditEvent, Membership
from dragonhoard.security.tokens import hash_token

from ..helpers import bearer, caller_id, login


def create(testapp, headers, status=201, **body):
    body.setdefault("name", "ci")
    return testapp.post_json("/api/tokens", body, headers=headers, status=status)


def test_create_show_once_list_use_rotate_revoke(session, dbsession, clock):
    testapp, user, headers = session
    created = create(testapp, headers, name="deploy", scopes=["treasure:read", "user:read"],
                     expires_in_days=7).json
    assert set(created) == {"id", "name", "token", "display_prefix", "scopes", "projects",
                            "allowed_networks", "expires_at", "created_at", "last_used_at"}
    secret = created["token"]
    assert secret.startswith("dhp_") and len(secret) == 50
    assert created["display_prefix"] == secret[:12]
    assert created["projects"] is None and created["allowed_networks"] == []
    row = dbsession.get(ApiToken, created["id"])
    assert row.token_hash == hash_token(secret) and secret not in (row.token_hash + row.display_prefix)

    listed = testapp.get("/api/tokens").json
    assert listed["total"] == 1 and "token" not in listed["items"][0]
    assert {"revoked_at", "last_used_ip", "rotated_from"} <= set(listed["items"][0])

    me = testapp.get("/api/me", headers=bearer(secret)).json
    assert me["auth"] == "token" and me["scopes"] == ["treasure:read", "user:read"]
    assert me["user"]["email"] == user.email

    rotated = testapp.post(f"/api/tokens/{created['id']}/rotate", headers=headers, status=201).json
    assert rotated["id"] != created["id"] and rotated["token"] != secret
    assert rotated["name"] == "deploy" and rotated["scopes"] == created["scopes"]
    assert rotated["rotated_from"] == created["id"]
    assert rotated["dropped"] == {"scopes": [], "projects": []}
    response = testapp.get("/api/me", headers=bearer(secret), status=401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert caller_id(testapp, headers=bearer(rotated["token"])) == user.id
    items = testapp.get("/api/tokens").json["items"]
    new = next(item for item in items if item["id"] == rotated["id"])
    assert new["rotated_from"] == created["id"]

    testapp.delete(f"/api/tokens/{rotated['id']}", headers=headers, status=204)
    testapp.get("/api/me", headers=bearer(rotated["token"]), status=401)
    kinds = dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like("token:%"))
                              .order_by(AuditEvent.id)).all()
    assert kinds == ["token:created", "token:rotated", "token:refused", "token:revoked",
                     "token:refused"]


def test_a_token_with_no_scope_can_still_ask_who_it_is(session):
    testapp, _user, headers = session
    secret = create(testapp, headers, scopes=[]).json["token"]
    me = testapp.get("/api/me", headers=bearer(secret)).json
    assert me["scopes"] == [] and "email" not in me["user"]


@pytest.mark.parametrize("body, field", [
    ({"scopes": ["treasure:steal"]}, "scopes"),
    ({"scopes": ["admin"]}, "scopes"),
    ({"expires_in_days": 45}, "expires_in_days"),
    ({"expires_in_days": 7, "expires_at": "2030-01-01"}, "expires_in_days"),
    ({"expires_at": "2020-01-01"}, "expires_at"),
    ({"expires_at": "not-a-date"}, "expires_at"),
    ({"projects": ["nowhere"]}, "projects"),
    ({"allowed_networks": ["10.0.0.0/33"]}, "allowed_networks.0"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"token": "dhp_chosen"}, "token"),
])
def test_bad_token_bodies_are_422_and_create_nothing(session, dbsession, body, field):
    testapp, _user, headers = session
    response = create(testapp, headers, status=422, **body)
    assert field in response.json["fields"]
    assert dbsession.scalars(select(ApiToken.id)).all() == []


def test_admins_may_give_the_admin_scope(testapp, factory):
    admin = factory.user(is_admin=True)
    csrf = login(testapp, admin)
    created = create(testapp, {"X-CSRF-Token": csrf}, scopes=["admin"]).json
    assert created["scopes"] == ["admin"]


def test_expiry_choices(session, clock):
    testapp, _user, headers = session
    now = clock.at
    seven = create(testapp, headers, name="a", expires_in_days=7).json
    assert seven["expires_at"] == (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    default = create(testapp, headers, name="b").json
    assert default["expires_at"] == (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    never = create(testapp, headers, name="c", expires_in_days=None).json
    assert never["expires_at"] is None
    day = (now + timedelta(days=3)).date()
    dated = create(testapp, headers, name="d", expires_at=day.isoformat()).json
    assert dated["expires_at"] == f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"
    today = create(testapp, headers, name="e", expires_at=now.date().isoformat()).json
    assert today["expires_at"].startswith((now.date() + timedelta(days=1)).isoformat())


def test_a_maximum_lifetime(make_testapp, factory, clock):
    testapp = make_testapp(dragonhoard__tokens__max_lifetime_days="60")
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    create(testapp, headers, name="a", expires_in_days=None, status=422)
    create(testapp, headers, name="b", expires_in_days=90, status=422)
    create(testapp, headers, name="c", expires_at=(clock.at.date() + timedelta(days=61)).isoformat(),
           status=422)
    create(testapp, headers, name="d", expires_at=(clock.at.date() + timedelta(days=60)).isoformat())
    create(testapp, headers, name="e", expires_in_days=60)


def test_default_lifetime_is_capped_by_a_shorter_maximum(make_testapp, factory, clock):
    testapp = make_testapp(dragonhoard__tokens__max_lifetime_days="10")
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    created = create(testapp, headers).json
    assert created["expires_at"] == (clock.at + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_names_are_unique_among_live_tokens(session):
    testapp, _user, headers = session
    first = create(testapp, headers, name="ci").json
    response = create(testapp, headers, name="ci", status=409)
    assert "name" in response.json["fields"]
    testapp.delete(f"/api/tokens/{first['id']}", headers=headers, status=204)
    create(testapp, headers, name="ci")


def test_project_restriction_from_memberships(session, factory):
    testapp, user, headers = session
    mine = factory.project(slug="erebor", members={user: "viewer"})
    factory.project(slug="angband")
    created = create(testapp, headers, projects=["erebor"]).json
    assert created["projects"] == ["erebor"]
    none = create(testapp, headers, name="nothing", projects=[]).json
    assert none["projects"] == []
    create(testapp, headers, name="theirs", projects=["angband"], status=422)
    assert mine.slug == "erebor"


def test_rotation_keeps_restriction_networks_and_lifetime(session, factory, clock):
    testapp, user, headers = session
    factory.project(slug="erebor", members={user: "owner"})
    created = create(testapp, headers, expires_in_days=60, projects=["erebor"],
                     allowed_networks=["192.0.2.0/24"], scopes=["project:read"]).json
    clock.advance(days=10)
    headers = {"X-CSRF-Token": login(testapp, user)}
    rotated = testapp.post(f"/api/tokens/{created['id']}/rotate", headers=headers, status=201).json
    assert rotated["projects"] == ["erebor"]
    assert rotated["allowed_networks"] == ["192.0.2.0/24"]
    assert rotated["expires_at"] == (clock.at + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_rotating_a_never_expiring_token_under_a_maximum(make_testapp, factory, clock):
    user = factory.user()
    _row, _secret = factory.token(user, never_expires=True, name="forever")
    capped = make_testapp(dragonhoard__tokens__max_lifetime_days="45")
    headers = {"X-CSRF-Token": login(capped, user)}
    rotated = capped.post(f"/api/tokens/{_row.id}/rotate", headers=headers, status=201).json
    assert rotated["expires_at"] == (clock.at + timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_rotating_a_token_that_expires_on_the_last_day_there_is(session, clock):
    """A lifetime counted from now may not run past the latest expiry a date
    can give (9999-12-31T00:00Z): it stops there rather than overflowing."""
    testapp, user, headers = session
    created = create(testapp, headers, expires_at="9999-12-30").json
    assert created["expires_at"] == "9999-12-31T00:00:00Z"
    create(testapp, headers, name="later", expires_at="9999-12-31", status=422)
    clock.advance(days=3)
    headers = {"X-CSRF-Token": login(testapp, user)}
    rotated = testapp.post(f"/api/tokens/{created['id']}/rotate", headers=headers, status=201).json
    assert rotated["expires_at"] == "9999-12-31T00:00:00Z"
    again = testapp.post(f"/api/tokens/{rotated['id']}/rotate", headers=headers, status=201).json
    assert again["expires_at"] == "9999-12-31T00:00:00Z"


def test_rotation_drops_admin_when_the_owner_is_no_longer_an_admin(testapp, factory, dbsession):
    admin = factory.user(is_admin=True)
    kept, _ = factory.token(admin, name="kept", scopes=["admin", "user:read"])
    dropped, _ = factory.token(admin, name="dropped", scopes=["admin", "user:read"])
    headers = {"X-CSRF-Token": login(testapp, admin)}
    still_admin = testapp.post(f"/api/tokens/{kept.id}/rotate", headers=headers, status=201).json
    assert still_admin["scopes"] == ["admin", "user:read"]
    assert still_admin["dropped"] == {"scopes": [], "projects": []}
    admin.is_admin = False
    dbsession.commit()
    rotated = testapp.post(f"/api/tokens/{dropped.id}/rotate", headers=headers, status=201).json
    assert rotated["scopes"] == ["user:read"]
    assert rotated["dropped"] == {"scopes": ["admin"], "projects": []}
    assert rotated["rotated_from"] == dropped.id
    assert dbsession.get(ApiToken, rotated["id"]).scope_list == ["user:read"]


def test_rotation_drops_the_projects_the_owner_left(session, factory, dbsession):
    """The new token stays restricted, to the projects its owner still
    belongs to: maybe to none at all, never to every project."""
    testapp, user, headers = session
    erebor = factory.project(slug="erebor", members={user: "viewer"})
    moria = factory.project(slug="moria", members={user: "owner"})
    token, _ = factory.token(user, projects=[erebor, moria], scopes=["project:read"])
    dbsession.execute(delete(Membership).where(Membership.project_id == moria.id))
    dbsession.commit()
    rotated = testapp.post(f"/api/tokens/{token.id}/rotate", headers=headers, status=201).json
    assert rotated["projects"] == ["erebor"] and rotated["scopes"] == ["project:read"]
    assert rotated["dropped"] == {"scopes": [], "projects": ["moria"]}
    dbsession.execute(delete(Membership).where(Membership.project_id == erebor.id))
    dbsession.commit()
    last = testapp.post(f"/api/tokens/{rotated['id']}/rotate", headers=headers, status=201).json
    assert last["projects"] == [] and last["dropped"] == {"scopes": [], "projects": ["erebor"]}
    row = dbsession.get(ApiToken, last["id"])
    assert row.is_restricted and row.project_links == []


def test_an_admins_rotation_keeps_projects_they_are_not_a_member_of(testapp, factory):
    admin = factory.user(is_admin=True)
    theirs = factory.project(slug="angband")
    token, _ = factory.token(admin, projects=[theirs])
    headers = {"X-CSRF-Token": login(testapp, admin)}
    rotated = testapp.post(f"/api/tokens/{token.id}/rotate", headers=headers, status=201).json
    assert rotated["projects"] == ["angband"]
    assert rotated["dropped"] == {"scopes": [], "projects": []}


def test_rotating_a_revoked_or_expired_token_is_409(session, factory, clock):
    testapp, user, headers = session
    revoked, _ = factory.token(user, revoked_at=clock.at)
    expired, _ = factory.token(user, expires_at=clock.at - timedelta(seconds=1))
    for token in (revoked, expired):
        testapp.post(f"/api/tokens/{token.id}/rotate", headers=headers, status=409)


def test_another_users_token_is_not_found(session, factory):
    testapp, _user, headers = session
    stranger = factory.user()
    theirs, secret = factory.token(stranger)
    testapp.delete(f"/api/tokens/{theirs.id}", headers=headers, status=404)
    testapp.post(f"/api/tokens/{theirs.id}/rotate", headers=headers, status=404)
    assert caller_id(testapp, headers=bearer(secret)) == stranger.id


def test_changes_need_sudo(session, factory, clock):
    testapp, user, headers = session
    token, _ = factory.token(user)
    clock.advance(seconds=901)
    for response in (
        create(testapp, headers, status=403),
        testapp.delete(f"/api/tokens/{token.id}", headers=headers, status=403),
        testapp.post(f"/api/tokens/{token.id}/rotate", headers=headers, status=403),
    ):
        assert response.json["error"] == "reauth_required"
    testapp.get("/api/tokens")  # reading needs no sudo
    testapp.post_json("/api/sudo", {"password": "correct-horse-battery-staple-42"}, headers=headers)
    create(testapp, headers)


def test_tokens_cannot_mint_list_rotate_or_revoke_tokens(testapp, factory):
    user = factory.user()
    token, secret = factory.token(user, scopes=sorted(
        ["treasure:read", "treasure:create", "treasure:edit", "treasure:delete", "project:read",
         "project:admin", "user:read", "user:edit"]))
    for method, path in (("get", "/api/tokens"), ("post", "/api/tokens"),
                         ("delete", f"/api/tokens/{token.id}"), ("delete", "/api/tokens/987654"),
                         ("post", f"/api/tokens/{token.id}/rotate"),
                         ("post", "/api/tokens/987654/rotate")):
        response = getattr(testapp, method)(path, headers=bearer(secret), status=403)
        assert response.json["error"] == "session_required", (method, path)
    assert testapp.get("/tokens", headers=bearer(secret), status=403)


def test_a_token_reads_and_revokes_itself(testapp, factory, dbsession):
    user = factory.user()
    token, secret = factory.token(user, scopes=["treasure:read"])
    body = testapp.get("/api/tokens/self", headers=bearer(secret)).json
    assert body["id"] == token.id and "token" not in body and body["scopes"] == ["treasure:read"]
    testapp.delete("/api/tokens/self", headers=bearer(secret), status=204)
    testapp.get("/api/tokens/self", headers=bearer(secret), status=401)
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "token:revoked")).one()
    assert event.user_id == user.id and event.details["by"] == "itself"


def test_tokens_self_with_a_session_is_not_found(session):
    testapp, _user, headers = session
    testapp.get("/api/tokens/self", status=404)
    testapp.delete("/api/tokens/self", headers=headers, status=404)


def test_a_deactivated_owners_tokens_stop_and_come_back(testapp, factory, dbsession):
    user = factory.user()
    _row, secret = factory.token(user)
    user.is_active = False
    dbsession.commit()
    response = testapp.get("/api/me", headers=bearer(secret), status=401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    user.is_active = True
    dbsession.commit()
    assert caller_id(testapp, headers=bearer(secret)) == user.id


def test_leak_reports_revoke_live_tokens_and_always_answer_202(testapp, factory, dbsession, clock):
    owner = factory.user()
    live, live_secret = factory.token(owner)
    _other, other_secret = factory.token(owner)
    response = testapp.post_json("/api/credentials/revoke",
                                 {"tokens": [live_secret, "dhp_not-a-token", "hello"]}, status=202)
    assert response.json["status"] == "accepted"
    testapp.get("/api/me", headers=bearer(live_secret), status=401)
    assert caller_id(testapp, headers=bearer(other_secret)) == owner.id
    testapp.post_json("/api/credentials/revoke", {"tokens": [live_secret]}, status=202)
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "token:revoked_leak")).all()
    assert len(events) == 1 and events[0].user_id == owner.id
    assert live_secret not in str(events[0].details)
    # The owner sees it in their security log.
    login(testapp, owner)
    kinds = [item["kind"] for item in testapp.get("/api/events").json["items"]]
    assert "token:revoked_leak" in kinds
    assert live.id in [e.details["token_id"] for e in events]


def test_leak_reports_are_bounded(make_testapp):
    testapp = make_testapp(dragonhoard__leak_reports_per_hour="3")
    response = testapp.post_json("/api/credentials/revoke", {"tokens": ["x"] * 101}, status=422)
    assert "tokens" in response.json["fields"]
    testapp.post_json("/api/credentials/revoke", {"tokens": []}, status=202)
    testapp.post_json("/api/credentials/revoke", {"nothing": 1}, status=422)
    response = testapp.post_json("/api/credentials/revoke", {"tokens": []}, status=429)
    assert response.headers["Retry-After"].isdigit()
    other = {"extra_environ": {"REMOTE_ADDR": "198.51.100.7"}}
    testapp.post_json("/api/credentials/revoke", {"tokens": []}, status=202, **other)


def test_expired_tokens_refused_at_the_second(testapp, factory, clock):
    user = factory.user()
    expires = clock.at + timedelta(hours=1)
    _row, secret = factory.token(user, expires_at=expires)
    clock.set(expires - timedelta(seconds=1))
    assert caller_id(testapp, headers=bearer(secret)) == user.id
    clock.set(expires)
    response = testapp.get("/api/me", headers=bearer(secret), status=401)
    assert 'error_description="The token has expired."' in response.headers["WWW-Authenticate"]


def test_refused_tokens_are_logged_once_a_minute(testapp, factory, dbsession, clock):
    user = factory.user()
    _row, secret = factory.token(user, revoked_at=clock.at)
    for _ in range(3):
        testapp.get("/api/me", headers=bearer(secret), status=401)
    clock.advance(seconds=61)
    testapp.get("/api/me", headers=bearer(secret), status=401)
    events = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "token:refused")).all()
    assert len(events) == 2 and events[0].details["reason"] == "revoked"


def test_the_expiry_header(testapp, factory, clock):
    user = factory.user()
    _soon, soon_secret = factory.token(user, expires_at=clock.at + timedelta(days=5))
    _later, later_secret = factory.token(user, expires_at=clock.at + timedelta(days=8))
    _never, never_secret = factory.token(user, never_expires=True)
    response = testapp.get("/api/me", headers=bearer(soon_secret))
    expected = (clock.at + timedelta(days=5)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert response.headers["Dragonhoard-Token-Expires"] == expected
    # 403 answers too, but not a 401 that refuses the token.
    assert testapp.get("/api/tokens", headers=bearer(soon_secret), status=403).headers[
        "Dragonhoard-Token-Expires"] == expected
    assert "Dragonhoard-Token-Expires" not in testapp.get("/api/me", headers=bearer(later_secret)).headers
    assert "Dragonhoard-Token-Expires" not in testapp.get("/api/me", headers=bearer(never_secret)).headers
    clock.advance(days=6)
    refused = testapp.get("/api/me", headers=bearer(soon_secret), status=401)
    assert "Dragonhoard-Token-Expires" not in refused.headers
