"""OAuth apps through the JSON API (DESIGN section 15): ``/api/apps`` (the
apps a user registered) and ``/api/account/apps`` (those they authorized)."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from dragonhoard.models import ApiToken, AuditEvent, OAuthApp, OAuthGrant
from dragonhoard.services.apps import MAX_APPS_PER_USER

from ..factories import PASSWORD
from ..helpers import bearer, login, row_counts
from .flows import REDIRECT, basic, refresh, tokens_for

APP_FIELDS = {"id", "client_id", "name", "homepage", "redirect_uris", "confidential", "created_at"}
GOOD = {"name": "Organizer", "homepage": "https://organizer.example",
        "redirect_uris": ["https://organizer.example/callback"]}


def create(testapp, headers, status=201, **body):
    return testapp.post_json("/api/apps", {**GOOD, **body}, headers=headers, status=status)


def kinds(dbsession, prefix: str = "oauth:") -> list[str]:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like(prefix + "%"))
                             .order_by(AuditEvent.id)).all()


def event(dbsession, kind: str) -> AuditEvent:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).one()


def send(testapp, method: str, path: str, body: dict | None = None, **kw):
    """``method`` on ``path``, with ``body`` as JSON when there is one."""
    if body is None:
        return testapp.request(path, method=method, **kw)
    return getattr(testapp, f"{method.lower()}_json")(path, body, **kw)


def introspect(testapp, app, secret: str, status=200):
    """A call where the app authenticates with its secret (RFC 7662)."""
    return testapp.post("/oauth/introspect", {"token": "dho_nothing"},
                        headers=basic(app.client_id, secret), status=status)


def test_create_list_get_change_delete(session, dbsession):
    testapp, user, headers = session
    created = create(testapp, headers, name="  Organizer  ").json
    assert set(created) == APP_FIELDS | {"client_secret"}
    assert created["name"] == "Organizer" and created["confidential"] is True
    assert created["client_id"].startswith("dhc_")
    assert created["redirect_uris"] == GOOD["redirect_uris"]
    secret = created["client_secret"]
    assert secret.startswith("dhs_")

    # Stored: SHA-256 of the secret, and nothing else of it.
    row = dbsession.get(OAuthApp, created["id"])
    assert row.owner_id == user.id
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in vars(row).values())

    # Shown once: never in a list or a read.
    listed = testapp.get("/api/apps").json
    assert listed["total"] == 1 and listed["page"] == 1 and listed["per_page"] == 20
    assert set(listed["items"][0]) == APP_FIELDS
    read = testapp.get(f"/api/apps/{created['id']}").json
    assert read == {k: v for k, v in created.items() if k != "client_secret"}

    changed = testapp.patch_json(f"/api/apps/{created['id']}", {
        "name": "Organizer 2", "homepage": "",
        "redirect_uris": ["https://organizer.example/cb", "http://127.0.0.1:9000/cb"],
    }, headers=headers).json
    assert changed == {**read, "name": "Organizer 2", "homepage": "",
                       "redirect_uris": ["https://organizer.example/cb", "http://127.0.0.1:9000/cb"]}
    assert testapp.get(f"/api/apps/{created['id']}").json == changed
    # An edit that changes nothing is no event.
    testapp.patch_json(f"/api/apps/{created['id']}", {"name": "Organizer 2"}, headers=headers)
    assert event(dbsession, "oauth:app_changed").details["changed"] == [
        "name", "homepage", "redirect_uris"]

    testapp.delete(f"/api/apps/{created['id']}", headers=headers, status=204)
    testapp.get(f"/api/apps/{created['id']}", status=404)
    assert testapp.get("/api/apps").json["total"] == 0
    assert kinds(dbsession) == ["oauth:app_created", "oauth:app_changed", "oauth:app_deleted"]
    for kind in ("oauth:app_created", "oauth:app_deleted"):
        logged = event(dbsession, kind)
        assert logged.user_id == user.id and logged.details["app_id"] == created["id"]
        assert secret not in str(logged.details)


def test_a_public_app_has_no_secret(session, dbsession):
    testapp, _user, headers = session
    created = create(testapp, headers, confidential=False,
                     redirect_uris=["com.example.organizer:/oauth2redirect",
                                    "http://[::1]:8765/callback"]).json
    assert set(created) == APP_FIELDS and created["confidential"] is False
    assert dbsession.get(OAuthApp, created["id"]).secret_hash is None
    before = row_counts(dbsession)
    response = testapp.post(f"/api/apps/{created['id']}/secret", headers=headers, status=409)
    assert response.json["error"] == "conflict"
    assert row_counts(dbsession) == before
    assert dbsession.get(OAuthApp, created["id"]).secret_hash is None
    assert kinds(dbsession) == ["oauth:app_created"]


def test_rotating_the_secret(session, dbsession):
    testapp, user, headers = session
    created = create(testapp, headers).json
    app = dbsession.get(OAuthApp, created["id"])
    old = created["client_secret"]
    introspect(testapp, app, old)

    rotated = testapp.post(f"/api/apps/{app.id}/secret", headers=headers, status=200).json
    new = rotated["client_secret"]
    assert new.startswith("dhs_") and new != old
    assert {k: v for k, v in rotated.items() if k != "client_secret"} == {
        k: v for k, v in created.items() if k != "client_secret"}
    dbsession.expire_all()
    assert dbsession.get(OAuthApp, app.id).secret_hash == hashlib.sha256(new.encode()).hexdigest()
    # The old secret stops at once; the new one works.
    introspect(testapp, app, old, status=401)
    introspect(testapp, app, new)
    assert "client_secret" not in testapp.get(f"/api/apps/{app.id}").json
    logged = event(dbsession, "oauth:secret_rotated")
    assert logged.user_id == user.id and logged.details["app_id"] == app.id
    assert new not in str(logged.details) and old not in str(logged.details)


@pytest.mark.parametrize("uris", [
    ["http://127.0.0.1:8765/callback"],
    ["http://[::1]/callback"],
    ["http://localhost:3000/auth/done?via=cli"],
    ["https://example.com/cb", "https://example.com/cb?x=1", "https://example.com:8443/cb"],
    [f"https://example.com/{'a' * 1970}"],
    [f"https://example.com/{i}" for i in range(10)],
])
def test_redirect_uris_are_kept_exactly(session, uris):
    testapp, _user, headers = session
    assert create(testapp, headers, redirect_uris=uris).json["redirect_uris"] == uris


@pytest.mark.parametrize("body, field", [
    ({"name": "   "}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": None}, "name"),
    ({"name": "Org\x00"}, "name"),
    ({"homepage": "javascript:alert(1)"}, "homepage"),
    ({"homepage": "ftp://example.com"}, "homepage"),
    ({"homepage": "https://"}, "homepage"),
    ({"homepage": "example.com"}, "homepage"),
    ({"homepage": "https://example.com/" + "a" * 500}, "homepage"),
    ({"redirect_uris": []}, "redirect_uris"),
    ({"redirect_uris": "https://example.com/cb"}, "redirect_uris"),
    ({"redirect_uris": [f"https://example.com/{i}" for i in range(11)]}, "redirect_uris"),
    ({"redirect_uris": ["https://example.com/cb", "https://example.com/cb"]}, "redirect_uris"),
    ({"redirect_uris": ["http://example.com/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["http://localhost.example.com/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["http://127.0.0.2/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://example.com/cb", "https://example.com/cb#done"]}, "redirect_uris.1"),
    ({"redirect_uris": ["https://example.com/cb#"]}, "redirect_uris.0"),
    ({"redirect_uris": ["/callback"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https:///callback"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://user@example.com/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://example.com:99999/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": [" https://example.com/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://example.com/c b"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://exämple.com/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://example.com/cb\n"]}, "redirect_uris.0"),
    ({"redirect_uris": [f"https://example.com/{'a' * 1981}"]}, "redirect_uris.0"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris.0"),
    ({"redirect_uris": ["data:text/html,hi"]}, "redirect_uris.0"),
    # An app's own scheme: public apps only, a dotted scheme, no authority.
    ({"redirect_uris": ["com.example.app:/callback"]}, "redirect_uris.0"),
    ({"redirect_uris": ["com.example.app:/callback"], "confidential": False}, None),
    ({"redirect_uris": ["myapp:/callback"], "confidential": False}, "redirect_uris.0"),
    ({"redirect_uris": ["com.example.app://host/cb"], "confidential": False}, "redirect_uris.0"),
    ({"redirect_uris": ["com.example.app:///cb"], "confidential": False}, "redirect_uris.0"),
    ({"redirect_uris": ["com.example.app:callback"], "confidential": False}, "redirect_uris.0"),
    ({"redirect_uris": ["Com.Example.App:///x"], "confidential": False}, "redirect_uris.0"),
    # Brackets hold a whole IPv6 address, nothing else.
    ({"redirect_uris": ["http://x[::1]:80/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["http://[::1]x/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://a[::1]/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": ["http://[::1::2]/cb"]}, "redirect_uris.0"),
    ({"confidential": "yes"}, "confidential"),
    ({"confidential": None}, "confidential"),
    ({"client_id": "dhc_mine"}, "client_id"),
    ({"client_secret": "dhs_mine"}, "client_secret"),
])
def test_bad_bodies_are_422_and_change_nothing(session, dbsession, body, field):
    testapp, _user, headers = session
    before = row_counts(dbsession)
    if field is None:  # the good twin of the case above it
        create(testapp, headers, **body)
        return
    response = create(testapp, headers, status=422, **body)
    assert response.json["error"] == "validation_failed"
    assert field in response.json["fields"], response.json
    assert row_counts(dbsession) == before


def test_missing_fields_are_422(session, dbsession):
    testapp, _user, headers = session
    before = row_counts(dbsession)
    response = testapp.post_json("/api/apps", {}, headers=headers, status=422)
    assert {"name", "redirect_uris"} <= set(response.json["fields"])
    testapp.post("/api/apps", "name=x", headers=headers, status=415)
    assert row_counts(dbsession) == before


@pytest.mark.parametrize("confidential, body, field", [
    (True, {"confidential": False}, "confidential"),
    (True, {"client_id": "dhc_mine"}, "client_id"),
    (True, {"name": None}, "name"),
    (True, {"name": " "}, "name"),
    (True, {"redirect_uris": []}, "redirect_uris"),
    (True, {"redirect_uris": None}, "redirect_uris"),
    (True, {"redirect_uris": ["http://example.com/cb"]}, "redirect_uris.0"),
    (True, {"redirect_uris": ["com.example.app:/callback"]}, "redirect_uris.0"),
    (False, {"redirect_uris": ["com.example.app:/callback"]}, None),
    (True, {"homepage": "javascript:alert(1)"}, "homepage"),
])
def test_bad_edits_are_422_and_change_nothing(session, factory, dbsession, confidential, body,
                                              field):
    testapp, user, headers = session
    app, _secret = factory.oauth_app(user, confidential=confidential)
    before_row = testapp.get(f"/api/apps/{app.id}").json
    before = row_counts(dbsession)
    if field is None:
        assert testapp.patch_json(f"/api/apps/{app.id}", body, headers=headers).json[
            "redirect_uris"] == body["redirect_uris"]
        return
    response = testapp.patch_json(f"/api/apps/{app.id}", body, headers=headers, status=422)
    assert field in response.json["fields"], response.json
    assert row_counts(dbsession) == before
    assert testapp.get(f"/api/apps/{app.id}").json == before_row
    assert kinds(dbsession) == []


def test_at_most_so_many_apps_each(session, factory, dbsession):
    testapp, user, headers = session
    for _ in range(MAX_APPS_PER_USER - 1):
        factory.oauth_app(user)
    create(testapp, headers)
    before = row_counts(dbsession)
    response = create(testapp, headers, status=409)
    assert response.json["error"] == "conflict"
    assert row_counts(dbsession) == before
    # The limit is each user's: another user may still register one.
    other = factory.user()
    other_headers = {"X-CSRF-Token": login(testapp, other)}
    create(testapp, other_headers)


def test_another_users_app_answers_like_a_missing_one(session, factory, dbsession):
    testapp, _user, headers = session
    stranger = factory.user()
    theirs, secret = factory.oauth_app(stranger)
    before = row_counts(dbsession)
    missing = 987654
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"name": "mine now"}),
                                 ("DELETE", "", None), ("POST", "/secret", None)):
        hidden, absent = (send(testapp, method, f"/api/apps/{app_id}{suffix}", body,
                               headers=headers, status=404) for app_id in (theirs.id, missing))
        assert hidden.body == absent.body, (method, suffix)
        assert hidden.headerlist == absent.headerlist, (method, suffix)
    assert row_counts(dbsession) == before
    assert testapp.get("/api/apps").json["total"] == 0
    introspect(testapp, theirs, secret)  # the stranger's secret still works
    assert kinds(dbsession) == []


def test_bearer_tokens_are_refused_every_app_route(testapp, factory):
    user = factory.user()
    app, _secret = factory.oauth_app(user)
    _token, secret = factory.token(user, scopes=["treasure:read", "user:read", "user:edit"])
    for method, path in (("GET", "/api/apps"), ("POST", "/api/apps"),
                         ("GET", f"/api/apps/{app.id}"), ("PATCH", f"/api/apps/{app.id}"),
                         ("DELETE", f"/api/apps/{app.id}"), ("POST", f"/api/apps/{app.id}/secret"),
                         ("POST", "/api/apps/987654/secret"), ("GET", "/api/account/apps"),
                         ("DELETE", f"/api/account/apps/{app.id}")):
        response = testapp.request(path, method=method, headers=bearer(secret), status=403)
        assert response.json["error"] == "session_required", (method, path)


def test_an_oauth_token_is_refused_too(session, factory):
    testapp, user, _headers = session
    app, app_secret = factory.oauth_app(user)
    access = tokens_for(testapp, user, app, app_secret, login=False)["access_token"]
    for method, path in (("GET", "/api/apps"), ("POST", f"/api/apps/{app.id}/secret"),
                         ("DELETE", f"/api/account/apps/{app.id}")):
        response = testapp.request(path, method=method, headers=bearer(access), status=403)
        assert response.json["error"] == "session_required", (method, path)


def test_anonymous_callers_are_401(testapp, factory):
    app, _secret = factory.oauth_app(factory.user())
    testapp.get("/api/apps", status=401)
    testapp.get(f"/api/apps/{app.id}", status=401)
    testapp.get("/api/account/apps", status=401)


def test_changes_need_sudo(session, factory, dbsession, clock):
    testapp, user, headers = session
    app, _secret = factory.oauth_app(user)
    clock.advance(seconds=901)
    before = row_counts(dbsession)
    for method, path, body in (("POST", "/api/apps", GOOD),
                               ("PATCH", f"/api/apps/{app.id}", {"name": "x"}),
                               ("DELETE", f"/api/apps/{app.id}", None),
                               ("POST", f"/api/apps/{app.id}/secret", None),
                               ("DELETE", f"/api/account/apps/{app.id}", None)):
        response = send(testapp, method, path, body, headers=headers, status=403)
        assert response.json["error"] == "reauth_required", (method, path)
    assert row_counts(dbsession) == before
    # Reading needs no sudo.
    testapp.get("/api/apps")
    testapp.get(f"/api/apps/{app.id}")
    testapp.get("/api/account/apps")
    testapp.post_json("/api/sudo", {"password": PASSWORD}, headers=headers)
    create(testapp, headers)


def test_csrf_is_needed(session, dbsession):
    testapp, _user, _headers = session
    before = row_counts(dbsession)
    response = testapp.post_json("/api/apps", GOOD, status=403)
    assert response.json["error"] == "csrf_failed"
    assert row_counts(dbsession) == before


def test_pages_of_apps(session, factory):
    testapp, user, _headers = session
    ids = [factory.oauth_app(user)[0].id for _ in range(3)]
    first = testapp.get("/api/apps", {"per_page": "2"}).json
    assert first["total"] == 3 and first["per_page"] == 2
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]  # newest first
    second = testapp.get("/api/apps", {"per_page": "2", "page": "2"}).json
    assert [item["id"] for item in second["items"]] == ids[:1]
    testapp.get("/api/apps", {"page": "0"}, status=422)


# -- deleting an app, and the apps a user authorized ---------------------------------


def test_deleting_an_app_kills_its_tokens(session, factory, dbsession):
    testapp, user, headers = session
    app, secret = factory.oauth_app(user)
    answer = tokens_for(testapp, user, app, secret, login=False)
    access, refresh_token = answer["access_token"], answer["refresh_token"]
    assert access.startswith("dho_")
    me = testapp.get("/api/me", headers=bearer(access)).json
    assert me["auth"] == "oauth" and me["app"]["id"] == app.id

    app_id = app.id
    testapp.delete(f"/api/apps/{app_id}", headers=headers, status=204)
    response = testapp.get("/api/me", headers=bearer(access), status=401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert refresh(testapp, app, secret, refresh_token, status=401).json["error"] == "invalid_client"
    dbsession.expire_all()
    assert dbsession.scalars(select(OAuthGrant.id)).all() == []
    assert dbsession.scalars(select(ApiToken.id).where(ApiToken.grant_id.is_not(None))).all() == []
    revoked = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "oauth:revoked")).one()
    assert revoked.user_id == user.id and revoked.details == {"app_id": app_id,
                                                               "reason": "app_deleted"}


def test_authorized_apps_are_listed_and_revoked(session, factory, dbsession):
    testapp, user, headers = session
    owner = factory.user()
    project = factory.project(slug="erebor", members={user: "viewer"})
    app, secret = factory.oauth_app(owner, homepage="https://organizer.example")
    other, other_secret = factory.oauth_app(owner)
    assert testapp.get("/api/account/apps").json == {"items": [], "page": 1, "per_page": 20,
                                                     "total": 0}
    access = tokens_for(testapp, user, app, secret, login=False, projects="some",
                        project_slugs=[project.slug])["access_token"]
    kept = tokens_for(testapp, user, other, other_secret, login=False,
                      scope="user:read")["access_token"]
    testapp.get("/api/me", headers=bearer(access))

    listed = testapp.get("/api/account/apps").json
    assert listed["total"] == 2
    by_app = {item["app"]["id"]: item for item in listed["items"]}
    item = by_app[app.id]
    assert set(item) == {"app", "scopes", "projects", "created_at", "last_used_at"}
    assert item["app"] == {"id": app.id, "name": app.name, "homepage": "https://organizer.example"}
    assert item["scopes"] == ["treasure:read", "user:read"]
    assert item["projects"] == ["erebor"]
    assert item["created_at"] and item["last_used_at"]
    assert by_app[other.id]["scopes"] == ["user:read"] and by_app[other.id]["projects"] is None
    # Authorizing an app does not make it one of the caller's own.
    assert testapp.get("/api/apps").json["total"] == 0

    testapp.delete(f"/api/account/apps/{app.id}", headers=headers, status=204)
    testapp.get("/api/me", headers=bearer(access), status=401)
    testapp.get("/api/me", headers=bearer(kept))  # the other app keeps working
    assert [i["app"]["id"] for i in testapp.get("/api/account/apps").json["items"]] == [other.id]
    logged = event(dbsession, "oauth:revoked")
    assert logged.user_id == user.id and logged.details["app_id"] == app.id
    # The app itself is untouched: its owner still has it.
    assert dbsession.get(OAuthApp, app.id) is not None

    # Revoked already, never authorized, or no such app: all alike, and nothing changes.
    never, _ = factory.oauth_app(owner)
    before = row_counts(dbsession)
    answers = [testapp.delete(f"/api/account/apps/{app_id}", headers=headers, status=404)
               for app_id in (app.id, never.id, 987654)]
    assert len({answer.body for answer in answers}) == 1
    assert row_counts(dbsession) == before


def test_the_redirect_uri_registered_is_the_one_matched(session, dbsession):
    """An app created through the API works with the flow, at its exact URI only."""
    testapp, user, headers = session
    created = create(testapp, headers, redirect_uris=[REDIRECT]).json
    app = dbsession.get(OAuthApp, created["id"])
    answer = tokens_for(testapp, user, app, created["client_secret"], login=False)
    assert testapp.get("/api/me", headers=bearer(answer["access_token"])).json["auth"] == "oauth"
