"""The device authorization grant (RFC 8628; DESIGN section 15): a command
line tool gets a code, its user enters it on /device and consents."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import OAuthDeviceCode
from dragonhoard.security.throttle import DEVICE_AUTHORIZATIONS_PER_HOUR, DEVICE_CODES_PER_HOUR

from ..helpers import bearer, form_login, row_counts
from .flows import DEVICE_GRANT


@pytest.fixture
def cli(factory):
    """A public app (a command-line tool) and its user."""
    user = factory.user()
    factory.project(slug="erebor", members={user: "owner"})
    app, _ = factory.oauth_app(factory.user(), confidential=False, name="hoard-cli")
    return user, app


def start(testapp, app, scope: str = "treasure:read", **extra) -> dict:
    answer = testapp.post("/oauth/device_authorization",
                          dict({"client_id": app.client_id, "scope": scope}, **extra))
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json


def poll(testapp, app, device_code: str, status=400, **extra):
    body = dict({"grant_type": DEVICE_GRANT, "device_code": device_code,
                 "client_id": app.client_id}, **extra)
    return testapp.post("/oauth/token", body, status=status)


def enter(testapp, user_code: str, decision: str = "allow", *, status=303, **choices):
    page = testapp.get("/device", {"user_code": user_code})
    form = page.forms[1]
    consent = form.submit()
    assert consent.status_int == 200, consent.status
    form = consent.forms["consent"]
    for name, value in choices.items():
        form[name] = value
    return form.submit("decision", value=decision, status=status)


def test_the_device_flow_from_code_to_tokens(clock, testapp, cli, dbsession):
    user, app = cli
    started = start(testapp, app)
    assert set(started) >= {"device_code", "user_code", "verification_uri",
                            "verification_uri_complete", "expires_in", "interval"}
    assert started["verification_uri"].endswith("/device")
    assert started["verification_uri_complete"].endswith("/device?user_code=" + started["user_code"])
    assert started["expires_in"] == 600 and started["interval"] == 5
    assert len(started["user_code"]) == 9 and started["user_code"][4] == "-"

    pending = poll(testapp, app, started["device_code"])
    assert pending.json["error"] == "authorization_pending"
    clock.advance(seconds=2)
    fast = poll(testapp, app, started["device_code"])
    assert fast.json["error"] == "slow_down"  # and the interval grows by 5 s
    clock.advance(seconds=10)
    assert poll(testapp, app, started["device_code"]).json["error"] == "authorization_pending"

    form_login(testapp, user.email)
    done = enter(testapp, started["user_code"].lower().replace("-", " "))
    assert done.headers["Location"] == "/device/done"
    assert "hoard-cli is connected" in testapp.get("/device/done").text

    clock.advance(seconds=20)
    body = poll(testapp, app, started["device_code"], status=200).json
    assert body["access_token"].startswith("dho_") and body["refresh_token"].startswith("dhr_")
    assert body["scope"] == "treasure:read"
    me = testapp.get("/api/me", headers=bearer(body["access_token"])).json
    assert me["auth"] == "oauth" and me["app"]["name"] == "hoard-cli"
    clock.advance(seconds=20)
    again = poll(testapp, app, started["device_code"])
    assert again.json["error"] == "invalid_grant"


def test_a_denied_device_is_told_so(clock, testapp, cli):
    user, app = cli
    started = start(testapp, app)
    form_login(testapp, user.email)
    enter(testapp, started["user_code"], decision="deny")
    assert poll(testapp, app, started["device_code"]).json["error"] == "access_denied"


def test_a_device_code_expires(clock, testapp, cli):
    _user, app = cli
    started = start(testapp, app)
    clock.advance(seconds=601)
    assert poll(testapp, app, started["device_code"]).json["error"] == "expired_token"


def test_an_unknown_or_expired_user_code_changes_nothing(clock, testapp, cli, dbsession):
    user, app = cli
    started = start(testapp, app)
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    page = testapp.get("/device")
    form = page.forms[1]
    form["user_code"] = "BCDF-GHJK"
    refused = form.submit(status=400)
    assert "unknown or has expired" in refused.text
    clock.advance(seconds=601)
    form["user_code"] = started["user_code"]
    assert "unknown or has expired" in form.submit(status=400).text
    after = row_counts(dbsession)
    # Only the throttle counted the codes sent.
    assert after.pop("throttle_hits") == before.pop("throttle_hits") + 4
    assert after == before


def test_the_device_page_needs_a_login(testapp):
    assert testapp.get("/device?user_code=BCDF-GHJK", status=303).headers["Location"].startswith(
        "/login?next=")


def test_another_apps_device_code_is_an_invalid_grant(clock, testapp, cli, factory):
    _user, app = cli
    other, _ = factory.oauth_app(factory.user(), confidential=False)
    started = start(testapp, app)
    assert poll(testapp, other, started["device_code"]).json["error"] == "invalid_grant"


def test_a_confidential_app_authenticates_for_a_device_code(testapp, factory):
    app, secret = factory.oauth_app(factory.user())
    refused = testapp.post("/oauth/device_authorization", {"client_id": app.client_id}, status=401)
    assert refused.json["error"] == "invalid_client"
    start(testapp, app, client_secret=secret)


def test_device_requests_are_validated(testapp, cli, dbsession):
    _user, app = cli
    before = row_counts(dbsession)
    unknown_scope = testapp.post("/oauth/device_authorization",
                                 {"client_id": app.client_id, "scope": "treasure:steal"},
                                 status=400)
    assert unknown_scope.json["error"] == "invalid_scope"
    nobody = testapp.post("/oauth/device_authorization", {"client_id": "dhc_nobody"}, status=401)
    assert nobody.json["error"] == "invalid_client"
    after = row_counts(dbsession)
    after.pop("throttle_hits"), before.pop("throttle_hits")  # each request counted
    assert after == before


def test_codes_are_stored_hashed(testapp, cli, dbsession):
    _user, app = cli
    started = start(testapp, app)
    row = dbsession.scalars(select(OAuthDeviceCode)).one()
    assert started["device_code"] not in (row.device_code_hash, row.user_code_hash)
    assert started["user_code"].replace("-", "") not in row.user_code_hash


def test_guessing_user_codes_is_throttled(testapp, cli, dbsession):
    user, _app = cli
    form_login(testapp, user.email)
    form = testapp.get("/device").forms[1]
    for _ in range(DEVICE_CODES_PER_HOUR):
        form["user_code"] = "BCDF-GHJK"
        form.submit(status=400)
    form["user_code"] = "BCDF-GHJK"
    refused = form.submit(status=429)
    assert int(refused.headers["Retry-After"]) > 0


def test_a_device_token_holds_only_what_the_user_granted(clock, testapp, cli):
    """RFC 8628's token request has no scope: one sent there widens nothing."""
    user, app = cli
    started = start(testapp, app, scope="user:read")
    form_login(testapp, user.email)
    enter(testapp, started["user_code"], granted_scope=[])  # every scope unchecked
    clock.advance(seconds=10)
    body = poll(testapp, app, started["device_code"], status=200,
                scope="treasure:read treasure:delete user:edit admin").json
    assert body["scope"] == ""
    assert testapp.get("/api/me", headers=bearer(body["access_token"])).json["scopes"] == []
    refreshed = testapp.post("/oauth/token", {"grant_type": "refresh_token",
                                              "refresh_token": body["refresh_token"],
                                              "client_id": app.client_id,
                                              "scope": "treasure:delete"}, status=400)
    assert refreshed.json["error"] == "invalid_scope"


def test_a_code_decided_meanwhile_writes_no_consent(clock, testapp, cli, dbsession):
    user, app = cli
    started = start(testapp, app)
    form_login(testapp, user.email)
    consent = testapp.get("/device", {"user_code": started["user_code"]}).forms[1].submit()
    clock.advance(seconds=601)
    before = row_counts(dbsession)
    consent.forms["consent"].submit("decision", value="allow", status=400)
    after = row_counts(dbsession)
    after.pop("throttle_hits"), before.pop("throttle_hits")
    assert after == before


def test_device_authorizations_are_counted_per_address(testapp, cli, dbsession):
    _user, app = cli
    for _ in range(DEVICE_AUTHORIZATIONS_PER_HOUR):
        start(testapp, app)
    refused = testapp.post("/oauth/device_authorization", {"client_id": app.client_id},
                           status=429)
    assert refused.json["error"] == "slow_down" and int(refused.headers["Retry-After"]) > 0
    assert len(dbsession.scalars(select(OAuthDeviceCode)).all()) == DEVICE_AUTHORIZATIONS_PER_HOUR


def test_a_user_code_drawn_twice_is_drawn_again(clock, testapp, cli, monkeypatch, dbsession):
    """The column is unique: a live code's twin is drawn again, an expired one's row goes."""
    _user, app = cli
    drawn = iter(["BCDF-GHJK", "BCDF-GHJK", "BCDF-GHJK", "LMNP-QRST"])
    monkeypatch.setattr("dragonhoard.services.oauth.new_user_code", lambda: next(drawn))
    first = start(testapp, app)
    second = start(testapp, app)
    assert first["user_code"] == "BCDF-GHJK" and second["user_code"] == "LMNP-QRST"
    assert second["verification_uri_complete"].endswith("?user_code=LMNP-QRST")
    clock.advance(seconds=601)
    monkeypatch.setattr("dragonhoard.services.oauth.new_user_code", lambda: "BCDF-GHJK")
    assert start(testapp, app)["user_code"] == "BCDF-GHJK"
    assert len(dbsession.scalars(select(OAuthDeviceCode)).all()) == 2
