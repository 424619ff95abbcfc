"""Revocation (RFC 7009), introspection (RFC 7662) and the authorization
server's metadata (RFC 8414)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, OAuthGrant
from dragonhoard.security.permissions import SCOPES

from ..helpers import bearer
from .flows import basic, refresh, tokens_for


@pytest.fixture
def granted(testapp, factory):
    user = factory.user()
    app, secret = factory.oauth_app(factory.user())
    return user, app, secret, tokens_for(testapp, user, app, secret)


def revoke(testapp, app, secret, token, status=200, **extra):
    return testapp.post("/oauth/revoke", dict({"token": token}, **extra),
                        headers=basic(app.client_id, secret), status=status)


def introspect(testapp, app, secret, token, status=200):
    return testapp.post("/oauth/introspect", {"token": token},
                        headers=basic(app.client_id, secret), status=status)


def test_revoking_an_access_token_stops_it_alone(granted, testapp, dbsession):
    _user, app, secret, body = granted
    assert revoke(testapp, app, secret, body["access_token"]).body == b""
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=401)
    fresh = refresh(testapp, app, secret, body["refresh_token"]).json
    testapp.get("/api/me", headers=bearer(fresh["access_token"]), status=200)
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "oauth:revoked")).one()
    assert event.details["reason"] == "access_token"


def test_revoking_a_refresh_token_revokes_the_grant(granted, testapp, dbsession):
    _user, app, secret, body = granted
    revoke(testapp, app, secret, body["refresh_token"], token_type_hint="refresh_token")
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=401)
    assert dbsession.scalars(select(OAuthGrant)).all() == []


def test_another_apps_tokens_and_unknown_ones_are_left_alone(granted, testapp, factory):
    user, _app, _secret, body = granted
    other, other_secret = factory.oauth_app(user)
    revoke(testapp, other, other_secret, body["access_token"])
    revoke(testapp, other, other_secret, "dho_unknown")
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=200)
    refused = testapp.post("/oauth/revoke", {"token": body["access_token"]},
                           headers=basic(other.client_id, "wrong"), status=401)
    assert refused.json["error"] == "invalid_client"
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=200)


def test_introspection_describes_live_tokens_to_their_app_only(granted, testapp, factory):
    user, app, secret, body = granted
    claims = introspect(testapp, app, secret, body["access_token"]).json
    assert claims["active"] is True and claims["client_id"] == app.client_id
    assert claims["username"] == user.username and claims["sub"] == str(user.id)
    assert claims["scope"] == "treasure:read user:read" and claims["exp"] > claims["iat"]
    assert introspect(testapp, app, secret, body["refresh_token"]).json["active"] is True
    other, other_secret = factory.oauth_app(user)
    assert introspect(testapp, other, other_secret, body["access_token"]).json == {"active": False}
    revoke(testapp, app, secret, body["access_token"])
    assert introspect(testapp, app, secret, body["access_token"]).json == {"active": False}
    assert introspect(testapp, app, secret, "nonsense").json == {"active": False}


def test_introspection_needs_an_authenticated_client(granted, testapp, factory):
    user, app, _secret, body = granted
    public, _ = factory.oauth_app(user, confidential=False)
    answer = testapp.post("/oauth/introspect", {"token": body["access_token"],
                                                "client_id": public.client_id}, status=401)
    assert answer.json["error"] == "invalid_client"
    anonymous = testapp.post("/oauth/introspect", {"token": body["access_token"]}, status=401)
    assert anonymous.json["error"] == "invalid_client"


def test_the_metadata_names_every_endpoint_and_s256_only(testapp):
    meta = testapp.get("/.well-known/oauth-authorization-server").json
    base = meta["issuer"]
    assert meta["authorization_endpoint"] == base + "/oauth/authorize"
    assert meta["token_endpoint"] == base + "/oauth/token"
    assert meta["device_authorization_endpoint"] == base + "/oauth/device_authorization"
    assert meta["revocation_endpoint"] == base + "/oauth/revoke"
    assert meta["introspection_endpoint"] == base + "/oauth/introspect"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}
    assert meta["scopes_supported"] == list(SCOPES)
    assert "none" in meta["token_endpoint_auth_methods_supported"]


def test_the_app_endpoints_ignore_a_users_bearer_token(granted, testapp, factory):
    """Their Authorization header is the app's: a user's token there is no
    credential (the app did not authenticate)."""
    user, app, _secret, body = granted
    _row, token = factory.token(user, scopes=["user:read"])
    answer = testapp.post("/oauth/token", {"grant_type": "refresh_token",
                                           "refresh_token": body["refresh_token"]},
                          headers=bearer(token), status=401)
    assert answer.json["error"] == "invalid_client"


def test_a_leak_report_of_oauth_tokens_revokes_them(granted, testapp, dbsession):
    _user, app, secret, body = granted
    testapp.post_json("/api/credentials/revoke", {"tokens": [body["access_token"]]}, status=202)
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=401)
    fresh = refresh(testapp, app, secret, body["refresh_token"]).json
    testapp.post_json("/api/credentials/revoke", {"tokens": [fresh["refresh_token"]]}, status=202)
    testapp.get("/api/me", headers=bearer(fresh["access_token"]), status=401)
    assert dbsession.scalars(select(OAuthGrant)).all() == []
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "oauth:revoked")).one()
    assert event.details["reason"] == "leaked"
