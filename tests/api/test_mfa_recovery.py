"""Recovery codes (DESIGN section 14): single use, hashed, a banner after a
use, regenerated in sudo mode (the old set dies), gone with the last factor."""
from __future__ import annotations

from sqlalchemy import select

from dragonhoard.models import AuditEvent, RecoveryCode

from ..helpers import login
from ..mfa import code_now, enrol_totp, give_recovery_codes, give_totp, start_login


def test_a_recovery_code_logs_in_once(testapp, factory, dbsession):
    user = factory.user()
    give_totp(dbsession, user)
    codes = give_recovery_codes(dbsession, user)
    assert start_login(testapp, user).json["methods"] == ["totp", "recovery"]
    answer = testapp.post_json("/api/login/recovery", {"code": codes[0].upper()}).json
    assert answer["user"]["id"] == user.id and answer["recovery_codes_left"] == 9
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "mfa:recovery_used")).one()
    assert event.user_id == user.id and event.details["codes_left"] == 9
    assert codes[0] not in str(event.details)
    success = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "login:success")).one()
    assert success.details["method"] == "password+recovery"
    # The next page says so, once.
    page = testapp.get("/account/sessions")
    assert "You used a recovery code: 9 codes left." in page.text
    assert "You used a recovery code" not in testapp.get("/account/sessions").text

    testapp.post("/api/logout", headers={"X-CSRF-Token": answer["csrf_token"]}, status=204)
    start_login(testapp, user)
    response = testapp.post_json("/api/login/recovery", {"code": codes[0]}, status=401)
    assert response.json["error"] == "invalid_credentials"
    # Dashes and spaces do not matter; another code still works.
    testapp.post_json("/api/login/recovery", {"code": " " + codes[1].replace("-", " ") + " "})
    assert testapp.get("/api/account/mfa").json["recovery_codes_left"] == 8


def test_codes_are_stored_as_argon2id_hashes(testapp, factory, dbsession):
    user = factory.user()
    _secret, codes = enrol_totp(testapp, login(testapp, user))
    assert len(codes) == 10
    hashes = dbsession.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$v=19$m=8,t=1,p=1$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)


def test_regenerating_needs_sudo_and_kills_the_old_set(testapp, factory, dbsession, clock):
    user = factory.user()
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    response = testapp.post_json("/api/account/recovery-codes", {}, headers=headers, status=409)
    assert "first" in response.json["message"]
    secret, old = enrol_totp(testapp, csrf)
    clock.advance(seconds=901)
    response = testapp.post_json("/api/account/recovery-codes", {}, headers=headers, status=403)
    assert response.json["error"] == "reauth_required"
    testapp.post_json("/api/sudo", {"totp_code": code_now(secret)}, headers=headers)
    new = testapp.post_json("/api/account/recovery-codes", {}, headers=headers, status=201).json["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    kinds = dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind == "mfa:recovery_generated")).all()
    assert len(kinds) == 2
    testapp.post("/api/logout", headers=headers, status=204)

    start_login(testapp, user)
    testapp.post_json("/api/login/recovery", {"code": old[0]}, status=401)
    testapp.post_json("/api/login/recovery", {"code": new[0]})


def test_removing_the_last_factor_takes_the_codes_away(testapp, factory, dbsession):
    user = factory.user()
    csrf = login(testapp, user)
    enrol_totp(testapp, csrf)
    testapp.delete("/api/account/totp", headers={"X-CSRF-Token": csrf}, status=204)
    assert dbsession.scalars(select(RecoveryCode)).all() == []


def test_recovery_codes_are_throttled_with_the_rest(make_testapp, factory, dbsession):
    testapp = make_testapp(dragonhoard__throttle__account_address_limit="3")
    user = factory.user()
    give_totp(dbsession, user)
    codes = give_recovery_codes(dbsession, user)
    start_login(testapp, user)
    testapp.post_json("/api/login/recovery", {"code": "abcde-abcde"}, status=401)
    testapp.post_json("/api/login/recovery", {"code": "not a code at all"}, status=401)
    testapp.post_json("/api/login/recovery", {"code": codes[0][::-1]}, status=401)
    response = testapp.post_json("/api/login/recovery", {"code": codes[0]}, status=429)
    assert "Retry-After" in response.headers
    assert dbsession.scalars(select(RecoveryCode.used_at)).all() == [None] * 10
