"""Refresh tokens: rotated at every use, a replay revokes the grant except
for a client's retry within 10 s (DESIGN section 15, RFC 9700 4.14)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, OAuthGrant, OAuthRefreshToken
from dragonhoard.services.tokens import prune

from ..helpers import bearer
from .flows import refresh, tokens_for


@pytest.fixture
def granted(clock, testapp, factory):
    user = factory.user()
    app, secret = factory.oauth_app(factory.user())
    body = tokens_for(testapp, user, app, secret)
    return user, app, secret, body


def test_a_refresh_rotates_both_tokens(granted, testapp, dbsession):
    _user, app, secret, first = granted
    second = refresh(testapp, app, secret, first["refresh_token"]).json
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["refresh_token"].startswith("dhr_") and second["scope"] == first["scope"]
    testapp.get("/api/me", headers=bearer(second["access_token"]), status=200)
    third = refresh(testapp, app, secret, second["refresh_token"]).json
    testapp.get("/api/me", headers=bearer(third["access_token"]), status=200)
    # The answer of each rotation is sealed, never stored as it was sent.
    for row in dbsession.scalars(select(OAuthRefreshToken)).all():
        assert row.replay_answer is None or "dho_" not in row.replay_answer


def test_a_retry_within_ten_seconds_gets_the_same_answer(granted, testapp, clock, dbsession):
    _user, app, secret, first = granted
    answer = refresh(testapp, app, secret, first["refresh_token"])
    clock.advance(seconds=9)
    retry = refresh(testapp, app, secret, first["refresh_token"])
    assert retry.body == answer.body
    assert len(dbsession.scalars(select(OAuthRefreshToken)).all()) == 2


def test_a_replay_after_the_grace_window_revokes_the_grant(granted, testapp, clock, dbsession):
    user, app, secret, first = granted
    second = refresh(testapp, app, secret, first["refresh_token"]).json
    clock.advance(seconds=11)
    replay = refresh(testapp, app, secret, first["refresh_token"], status=400)
    assert replay.json["error"] == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        testapp.get("/api/me", headers=bearer(access), status=401)
    refresh(testapp, app, secret, second["refresh_token"], status=400)
    assert dbsession.scalars(select(OAuthGrant)).all() == []
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "oauth:refresh_reused")
                              ).one()
    assert event.user_id == user.id and event.details["app_id"] == app.id


def test_a_refresh_may_narrow_the_scopes_but_never_widen_them(granted, testapp):
    _user, app, secret, first = granted
    narrower = refresh(testapp, app, secret, first["refresh_token"], scope="user:read").json
    assert narrower["scope"] == "user:read"
    wider = refresh(testapp, app, secret, narrower["refresh_token"],
                    scope="user:read treasure:edit", status=400)
    assert wider.json["error"] == "invalid_scope"


def test_a_refresh_token_belongs_to_its_app(granted, testapp, factory):
    user, _app, _secret, first = granted
    other, other_secret = factory.oauth_app(user)
    stolen = refresh(testapp, other, other_secret, first["refresh_token"], status=400)
    assert stolen.json["error"] == "invalid_grant"


def test_refresh_tokens_expire_after_thirty_days(granted, testapp, clock):
    _user, app, secret, first = granted
    clock.advance(days=30, seconds=1)
    assert refresh(testapp, app, secret, first["refresh_token"], status=400).json["error"] == \
        "invalid_grant"


@pytest.mark.parametrize("value", ["", "dhr_short", "dho_" + "a" * 46, "x" * 5000])
def test_malformed_refresh_tokens_are_invalid_grants(granted, testapp, value):
    _user, app, secret, _first = granted
    answer = refresh(testapp, app, secret, value, status=400)
    assert answer.json["error"] in ("invalid_grant", "invalid_request")


def test_access_tokens_live_as_long_as_the_setting_says(clock, make_testapp, factory):
    testapp = make_testapp(dragonhoard__oauth__access_seconds="120")
    user = factory.user()
    app, secret = factory.oauth_app(user)
    body = tokens_for(testapp, user, app, secret)
    assert body["expires_in"] == 120
    clock.advance(seconds=119)
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=200)
    clock.advance(seconds=2)
    expired = testapp.get("/api/me", headers=bearer(body["access_token"]), status=401)
    assert "expired" in expired.json["message"]
    # The refresh token outlives it.
    refreshed = refresh(testapp, app, secret, body["refresh_token"]).json
    testapp.get("/api/me", headers=bearer(refreshed["access_token"]), status=200)


def test_prune_deletes_what_is_spent(granted, testapp, clock, dbsession):
    _user, app, secret, first = granted
    refresh(testapp, app, secret, first["refresh_token"])
    counts = prune(dbsession, older_than_days=1, throttle_window_seconds=900,
                   session_idle_seconds=3600)
    assert counts["oauth"] == 0  # the used refresh token stays a while, to catch a replay
    clock.advance(days=31)
    counts = prune(dbsession, older_than_days=0, throttle_window_seconds=900,
                   session_idle_seconds=3600)
    dbsession.commit()
    assert counts["oauth"] == 3  # the code and both refresh tokens
    assert dbsession.scalars(select(OAuthRefreshToken)).all() == []
