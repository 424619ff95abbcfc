"""TOTP (DESIGN section 14): enrolment confirmed by a code, the login's second
step with a pending login that grants nothing, ±1 step, replays refused,
the throttle, removal; the secret encrypted at rest."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, LoginSession, PendingLogin, TotpAuthenticator, User
from dragonhoard.security import totp

from ..helpers import login
from ..mfa import APP_SECRET, code_at, code_now, enrol_totp, give_totp, start_login


def kinds(dbsession, user) -> list[str]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == user.id)
                                  .order_by(AuditEvent.id)))


def test_enrolment_is_confirmed_by_a_code_and_brings_ten_recovery_codes(testapp, factory, dbsession):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    started = testapp.post_json("/api/account/totp", {}, headers=headers, status=201).json
    assert set(started) == {"secret", "otpauth_uri", "qr_svg"}
    assert started["otpauth_uri"].startswith("otpauth://totp/dragonhoard:")
    assert f"secret={started['secret']}" in started["otpauth_uri"]
    assert started["qr_svg"].startswith("<svg") and "style=" not in started["qr_svg"]
    # Not active yet: nothing changed for the account.
    assert testapp.get("/api/account/mfa").json == {
        "totp": False, "webauthn": [], "recovery_codes_left": 0, "required": False}

    response = testapp.post_json("/api/account/totp/confirm", {"code": "000000"}, headers=headers,
                                 status=422)
    assert "code" in response.json["fields"]
    if code_now(started["secret"]) == "000000":
        pytest.skip("the right code happened to be 000000")
    confirmed = testapp.post_json("/api/account/totp/confirm", {"code": code_now(started["secret"])},
                                  headers=headers).json
    assert confirmed["totp"] is True and len(confirmed["recovery_codes"]) == 10
    assert len(set(confirmed["recovery_codes"])) == 10
    status = testapp.get("/api/account/mfa").json
    assert status["totp"] is True and status["recovery_codes_left"] == 10

    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled is True
    stored = dbsession.get(TotpAuthenticator, user.id).secret_encrypted
    assert started["secret"] not in stored and stored.startswith("v1:")
    assert totp.decrypt(APP_SECRET, user.id, stored) == started["secret"]
    assert kinds(dbsession, user)[-3:] == ["mfa:failure", "mfa:totp_enabled", "mfa:recovery_generated"]

    # A second enrolment while one is on: remove it first.
    testapp.post_json("/api/account/totp", {}, headers=headers, status=409)


def test_enrolment_needs_a_session_in_sudo_mode(testapp, factory, clock):
    user = factory.user()
    _row, secret = factory.token(user, scopes=["user:read", "user:edit"])
    response = testapp.post_json("/api/account/totp", {}, headers={"Authorization": f"Bearer {secret}"},
                                 status=403)
    assert response.json["error"] == "session_required"
    headers = {"X-CSRF-Token": login(testapp, user)}
    clock.advance(seconds=901)
    response = testapp.post_json("/api/account/totp", {}, headers=headers, status=403)
    assert response.json["error"] == "reauth_required"
    testapp.post_json("/api/account/totp/confirm", {"code": "123456"}, headers=headers, status=409)


def test_the_secret_is_bound_to_the_application_secret_and_the_user():
    stored = totp.encrypt(APP_SECRET, 7, "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert totp.decrypt(APP_SECRET, 7, stored) == "JBSWY3DPEHPK3PXP"
    assert totp.decrypt(APP_SECRET, 8, stored) is None
    assert totp.decrypt("another-secret-" + "y" * 30, 7, stored) is None
    assert totp.decrypt(APP_SECRET, 7, "v1:not base64!") is None
    assert totp.decrypt(APP_SECRET, 7, "v0:" + stored[3:]) is None


def test_a_password_alone_opens_no_session(testapp, factory, dbsession):
    user = factory.user()
    give_totp(dbsession, user)
    response = start_login(testapp, user)
    assert response.json == {"mfa_required": True, "methods": ["totp"]}
    assert response.headers["Cache-Control"] == "no-store"
    cookies = [v for k, v in response.headerlist if k == "Set-Cookie"]
    assert not any(c.startswith("dh_session=") for c in cookies)
    pending = next(c for c in cookies if c.startswith("dh_pending="))
    attributes = {part.strip().lower() for part in pending.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", "max-age=300"} <= attributes
    # The pending login authenticates nothing.
    testapp.get("/api/me", status=401)
    testapp.get("/api/account/mfa", status=401)
    assert dbsession.scalars(select(LoginSession)).all() == []
    assert kinds(dbsession, user) == []


def test_password_then_code_logs_in_and_a_replayed_code_is_refused(testapp, factory, dbsession, clock):
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    answer = testapp.post_json("/api/login/totp", {"code": code_now(secret)}).json
    assert answer["user"]["id"] == user.id and answer["csrf_token"]
    assert "dh_pending" not in testapp.cookies  # cleared
    assert testapp.get("/api/me").json["auth"] == "session"
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "login:success")).one()
    assert event.details["method"] == "password+totp" and event.details["via"] == "json"
    testapp.post("/api/logout", headers={"X-CSRF-Token": answer["csrf_token"]}, status=204)

    # The same code again, and an earlier one: refused, whatever the password.
    start_login(testapp, user)
    response = testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)
    assert response.json["error"] == "invalid_credentials"
    testapp.post_json("/api/login/totp", {"code": code_now(secret, -1)}, status=401)
    testapp.get("/api/me", status=401)
    # The next step's code is fine: the pending login survived the failures.
    clock.advance(seconds=30)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)})
    assert testapp.get("/api/me").json["user"]["id"] == user.id


@pytest.mark.parametrize("steps, accepted", [(-2, False), (-1, True), (1, True), (2, False)])
def test_one_step_either_way_is_accepted(testapp, factory, dbsession, clock, steps, accepted):
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    testapp.post_json("/api/login/totp", {"code": code_now(secret, steps)},
                      status=200 if accepted else 401)


def test_the_pending_login_lives_five_minutes_and_is_used_once(testapp, factory, dbsession, clock):
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    clock.advance(seconds=301)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)

    start_login(testapp, user)
    pending = testapp.cookies["dh_pending"]
    testapp.post_json("/api/login/totp", {"code": code_now(secret)})
    # The cookie replayed, with the next step's right code: used already.
    testapp.reset()
    testapp.set_cookie("dh_pending", pending)
    clock.advance(seconds=30)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)
    testapp.get("/api/me", status=401)
    assert dbsession.scalars(select(PendingLogin.used_at)).all()[-1] is not None


def test_no_pending_login_no_second_step(testapp, factory, dbsession):
    user = factory.user()
    secret = give_totp(dbsession, user)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)
    testapp.set_cookie("dh_pending", "x" * 43)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)
    testapp.set_cookie("dh_pending", "x" * 500)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)


def test_the_second_step_is_json_from_our_own_origin(testapp, factory, dbsession):
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    response = testapp.post_json("/api/login/totp", {"code": code_now(secret)},
                                 headers={"Origin": "http://evil.example"}, status=403)
    assert response.json["error"] == "csrf_failed"
    testapp.post("/api/login/totp", {"code": code_now(secret)}, status=415)
    testapp.post("/api/login/totp", "{", content_type="application/json", status=400)
    testapp.post_json("/api/login/totp", {"code": 123456}, status=422)
    testapp.post_json("/api/login/totp", {"code": code_now(secret), "extra": 1}, status=422)
    testapp.post_json("/api/login/totp", {"code": ""}, status=422)
    for wrong in ("12345", "1234567", "abcdef", "\u0661\u0662\u0663\u0664\u0665\u0666", "1" * 64):
        testapp.post_json("/api/login/totp", {"code": wrong}, status=401)
    testapp.post_json("/api/login/totp", {"code": " ".join(code_now(secret))})  # spaces are fine


def test_wrong_codes_are_throttled_like_passwords(make_testapp, factory, dbsession):
    testapp = make_testapp(dragonhoard__throttle__account_address_limit="3")
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    for _ in range(3):
        testapp.post_json("/api/login/totp", {"code": code_now(secret, 5)}, status=401)
    response = testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=429)
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["error"] == "too_many_requests"
    assert kinds(dbsession, user) == ["mfa:failure"] * 3 + ["login:throttled"]
    # The password counts toward the same limit: it is throttled too now.
    start_login(testapp, user, status=429)
    # Another address is another counter.
    other = {"REMOTE_ADDR": "198.51.100.7"}
    start_login(testapp, user, extra_environ=other)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, extra_environ=other)


def test_a_right_code_clears_the_failures_from_this_address(make_testapp, factory, dbsession, clock):
    testapp = make_testapp(dragonhoard__throttle__account_address_limit="3")
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    for _ in range(2):
        testapp.post_json("/api/login/totp", {"code": code_now(secret, 5)}, status=401)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)})
    testapp.reset()
    clock.advance(seconds=30)
    start_login(testapp, user)
    for _ in range(2):
        testapp.post_json("/api/login/totp", {"code": code_now(secret, 5)}, status=401)
    testapp.post_json("/api/login/totp", {"code": code_now(secret)})


def test_removing_it_needs_sudo_and_turns_two_factor_off(testapp, factory, dbsession, clock):
    user = factory.user()
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    enrol_totp(testapp, csrf)
    clock.advance(seconds=901)
    testapp.delete("/api/account/totp", headers=headers, status=403)
    secret = dbsession.get(TotpAuthenticator, user.id)
    assert secret is not None
    testapp.post_json("/api/sudo", {"password": "correct-horse-battery-staple-42"}, headers=headers)
    testapp.delete("/api/account/totp", headers=headers, status=204)
    testapp.delete("/api/account/totp", headers=headers, status=404)
    assert testapp.get("/api/account/mfa").json == {
        "totp": False, "webauthn": [], "recovery_codes_left": 0, "required": False}
    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled is False
    assert "mfa:totp_disabled" in kinds(dbsession, user)
    testapp.post("/api/logout", headers=headers, status=204)
    assert "user" in start_login(testapp, user).json  # a password alone again


def test_sudo_takes_a_totp_code_once(testapp, factory, dbsession, clock):
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    login_code = code_now(secret)
    csrf = testapp.post_json("/api/login/totp", {"code": login_code}).json["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    # The code that logged in cannot open sudo mode too.
    response = testapp.post_json("/api/sudo", {"totp_code": login_code}, headers=headers,
                                 status=403)
    assert response.json["error"] == "invalid_code"
    clock.advance(seconds=901)
    testapp.post_json("/api/tokens", {"name": "ci"}, headers=headers, status=403)
    assert testapp.post_json("/api/sudo", {"totp_code": code_now(secret)}, headers=headers).json["sudo_until"]
    testapp.post_json("/api/tokens", {"name": "ci"}, headers=headers, status=201)
    testapp.post_json("/api/sudo", {"totp_code": code_now(secret)}, headers=headers, status=403)
    for body in ({}, {"password": "x", "totp_code": "123456"}, {"totp_code": None}):
        testapp.post_json("/api/sudo", body, headers=headers, status=422)
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "sudo:success")).one()
    assert event.details["method"] == "totp"


def test_codes_of_an_account_without_totp_are_refused(testapp, factory, dbsession):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    response = testapp.post_json("/api/sudo", {"totp_code": "123456"}, headers=headers, status=403)
    assert response.json["error"] == "invalid_code"


def test_the_step_is_taken_once_on_every_process(testapp, factory, dbsession, clock):
    """Two requests with one code: the stored step decides, not the process."""
    user = factory.user()
    secret = give_totp(dbsession, user)
    start_login(testapp, user)
    pending = testapp.cookies["dh_pending"]
    code = code_now(secret)
    testapp.post_json("/api/login/totp", {"code": code})
    dbsession.expire_all()
    assert dbsession.get(TotpAuthenticator, user.id).last_step == totp.step_at(clock.at)
    testapp.reset()
    testapp.set_cookie("dh_pending", pending)
    testapp.post_json("/api/login/totp", {"code": code_at(secret, clock.at)}, status=401)
