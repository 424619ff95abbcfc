"""WebAuthn through the API, with a software authenticator (tests/soft_authenticator.py):
registration, passkey login, the second step of a login, sudo, removal;
single-use challenges that any process may finish, the signature counter,
and no 500 for any answer a browser (or anybody) may send."""
from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select, update

from dragonhoard.models import AuditEvent, User, WebAuthnChallenge, WebAuthnCredential
from dragonhoard.security.challenges import challenge_hash

from ..helpers import bearer, login
from ..mfa import assertion_for, challenge_of, code_now, give_key, give_totp, register, start_login
from ..soft_authenticator import SoftAuthenticator, b64url


def events(dbsession, kind: str) -> list[AuditEvent]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def test_registering_a_passkey(testapp, factory, dbsession):
    user = factory.user()
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    assert options["rp"] == {"id": "localhost", "name": "dragonhoard"}
    assert options["user"]["name"] == user.email
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["extensions"] == {"credProps": True}
    assert options["timeout"] == 300000
    key = SoftAuthenticator()
    added = testapp.post_json("/api/account/webauthn",
                              {"name": "laptop", "credential": key.create(options)},
                              headers=headers, status=201).json
    codes = added.pop("recovery_codes")
    assert len(codes) == 10  # the account's first factor
    assert set(added) == {"id", "name", "created_at", "last_used_at", "passkey"}
    assert added["name"] == "laptop" and added["passkey"] is True and added["last_used_at"] is None
    status = testapp.get("/api/account/mfa").json
    assert status["webauthn"] == [added] and status["recovery_codes_left"] == 10
    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled is True
    assert [e.details["name"] for e in events(dbsession, "mfa:webauthn_added")] == ["laptop"]

    # A second key: no new codes; the first is excluded from its options.
    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    other = SoftAuthenticator()
    second = testapp.post_json("/api/account/webauthn",
                               {"name": "YubiKey", "credential": other.create(options, resident_key=False)},
                               headers=headers, status=201).json
    assert "recovery_codes" not in second and second["passkey"] is False


def test_a_registration_challenge_is_single_use_and_lives_five_minutes(testapp, factory, dbsession,
                                                                        clock):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    key = SoftAuthenticator()
    credential = key.create(options)
    testapp.post_json("/api/account/webauthn", {"name": "a", "credential": credential}, headers=headers,
                      status=201)
    response = testapp.post_json("/api/account/webauthn", {"name": "a", "credential": credential},
                                 headers=headers, status=422)
    assert "credential" in response.json["fields"]

    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    clock.advance(seconds=301)
    testapp.post_json("/api/account/webauthn",
                      {"name": "b", "credential": SoftAuthenticator().create(options)},
                      headers=headers, status=422)
    assert len(dbsession.scalars(select(WebAuthnCredential)).all()) == 1


def test_a_registration_belongs_to_its_session(testapp, make_testapp, factory, dbsession):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    other = make_testapp()
    other_headers = {"X-CSRF-Token": login(other, user)}
    other.post_json("/api/account/webauthn", {"name": "x", "credential": SoftAuthenticator().create(options)},
                    headers=other_headers, status=422)
    # ...and a forged answer (another origin, another relying party) uses it up.
    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    for forged in ({"origin": "http://evil.example"}, {"rp_id": "evil.example"}):
        options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
        credential = SoftAuthenticator().create(options, **forged)
        testapp.post_json("/api/account/webauthn", {"name": "x", "credential": credential},
                          headers=headers, status=422)
    assert dbsession.scalars(select(WebAuthnCredential)).all() == []


def test_registration_needs_sudo_and_a_session(testapp, factory, clock):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    clock.advance(seconds=901)
    response = testapp.post_json("/api/account/webauthn/options", {}, headers=headers, status=403)
    assert response.json["error"] == "reauth_required"
    _row, secret = factory.token(user, scopes=["user:edit"])
    response = testapp.post_json("/api/account/webauthn/options", {}, headers=bearer(secret), status=403)
    assert response.json["error"] == "session_required"


def test_a_passkey_logs_in_by_itself(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    register(testapp, login(testapp, user), key)
    testapp.reset()

    options = testapp.post_json("/api/login/webauthn/options", {}).json
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    answer = testapp.post_json("/api/login/webauthn", {"credential": key.get(options)}).json
    assert answer["user"]["id"] == user.id and answer["csrf_token"]
    assert testapp.get("/api/me").json["user"]["id"] == user.id
    [success] = [e for e in events(dbsession, "login:success") if e.details["method"] == "passkey"]
    assert success.user_id == user.id
    row = dbsession.scalars(select(WebAuthnCredential)).one()
    assert row.sign_count == 1 and row.last_used_at is not None


def test_a_passkey_login_needs_user_verification(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    credential = assertion_for(testapp, key, user_verified=False)
    response = testapp.post_json("/api/login/webauthn", {"credential": credential}, status=401)
    assert response.json["error"] == "invalid_credentials"
    testapp.get("/api/me", status=401)
    assert events(dbsession, "mfa:failure")[0].details["method"] == "webauthn"


def test_an_assertion_is_refused_the_second_time(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    credential = assertion_for(testapp, key)
    testapp.post_json("/api/login/webauthn", {"credential": credential})
    testapp.reset()
    testapp.post_json("/api/login/webauthn", {"credential": credential}, status=401)
    testapp.get("/api/me", status=401)


def test_a_challenge_is_finished_by_any_process(testapp, make_testapp, factory, dbsession):
    """The challenge lives in the database: another app (another process,
    another pool) finishes the ceremony this one began."""
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    options = testapp.post_json("/api/login/webauthn/options", {}).json
    row = dbsession.scalars(select(WebAuthnChallenge)).one()
    assert row.challenge_hash == challenge_hash(challenge_of(options)) and row.purpose == "passkey"
    # Another application object (as another process has), on the same database.
    elsewhere = make_testapp(dragonhoard__throttle__account_address_limit="3")
    assert elsewhere.app is not testapp.app
    elsewhere.post_json("/api/login/webauthn", {"credential": key.get(options)})
    assert elsewhere.get("/api/me").json["user"]["id"] == user.id


def test_a_counter_that_does_not_grow_is_refused(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    dbsession.execute(update(WebAuthnCredential).values(sign_count=5))
    dbsession.commit()
    testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key, counter=5)},
                      status=401)
    testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key, counter=3)},
                      status=401)
    testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key, counter=6)})
    dbsession.expire_all()
    assert dbsession.scalars(select(WebAuthnCredential.sign_count)).one() == 6


def test_an_authenticator_without_a_counter_logs_in_again_and_again(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator(counter_step=0)
    give_key(dbsession, user, key)
    for _ in range(2):
        testapp.reset()
        testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key)})


def test_a_deactivated_user_and_an_unknown_key_are_refused_alike(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    stranger = SoftAuthenticator()
    unknown = testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, stranger)},
                                status=401).json
    user.is_active = False
    dbsession.commit()
    deactivated = testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key)},
                                    status=401).json
    assert unknown == deactivated


def test_a_forged_signature_is_refused(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    impostor = SoftAuthenticator()
    impostor.credential_id = key.credential_id  # the id, not the private key
    impostor.user_handle = key.user_handle
    testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, impostor)},
                      status=401)
    # Another origin, or a user handle that is not the user's.
    testapp.post_json("/api/login/webauthn",
                      {"credential": assertion_for(testapp, key, origin="http://evil.example")},
                      status=401)
    key.user_handle = b64url(b"dragonhoard-user-999")
    testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key)}, status=401)
    testapp.get("/api/me", status=401)


def _with(credential: dict, **response) -> dict:
    return dict(credential, response=dict(credential["response"], **response))


#: Answers nobody's browser would send; each must be a 4xx, and each is sent
#: with a live challenge of its own, so that it reaches py_webauthn.
MANGLERS = [
    lambda c: {},
    lambda c: {"id": 1},
    lambda c: {"rawId": None, "response": None},
    lambda c: {"response": []},
    lambda c: dict(c, rawId="***"),
    lambda c: dict(c, rawId="A" * 5000),
    lambda c: dict(c, id="other", rawId="b3RoZXI"),
    lambda c: dict(c, type="other"),
    lambda c: dict(c, authenticatorAttachment="teleport"),
    lambda c: _with(c, clientDataJSON="!!!"),
    lambda c: _with(c, clientDataJSON=b64url(b"[1, 2]")),
    lambda c: _with(c, clientDataJSON=b64url(b'{"challenge": 5}')),
    lambda c: _with(c, authenticatorData="%%", attestationObject="%%"),
    lambda c: _with(c, authenticatorData=b64url(b"short"), attestationObject=b64url(b"\xff\x00")),
    lambda c: _with(c, signature=b64url(b"\x30\x02\x00\x00"), attestationObject=b64url(b"\xa0")),
    lambda c: _with(c, userHandle=12, attestationObject=None),
]


def test_no_answer_is_a_500(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    for mangle in MANGLERS:
        credential = mangle(assertion_for(testapp, key))
        response = testapp.post_json("/api/login/webauthn", {"credential": credential}, status="*")
        assert response.status_int in (401, 422), (credential, response.status)
    testapp.post_json("/api/login/webauthn", {"credential": "x"}, status=422)
    testapp.post_json("/api/login/webauthn", {}, status=422)
    testapp.post("/api/login/webauthn", "[", content_type="application/json", status=400)
    testapp.post("/api/login/webauthn", "{}", content_type="text/plain", status=415)
    testapp.get("/api/me", status=401)

    headers = {"X-CSRF-Token": login(testapp, factory.user())}
    for mangle in MANGLERS:
        options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
        credential = mangle(SoftAuthenticator().create(options))
        response = testapp.post_json("/api/account/webauthn", {"name": "x", "credential": credential},
                                     headers=headers, status="*")
        assert response.status_int == 422, (credential, response.status)
    for body in ({"webauthn": {}}, {"webauthn": {"response": {"clientDataJSON": "e30"}}},
                 {"webauthn": MANGLERS[-1](key.get({"challenge": "AAAA"}))}):
        response = testapp.post_json("/api/sudo", body, headers=headers, status="*")
        assert response.status_int == 403 and response.json["error"] == "invalid_code"
    assert len(dbsession.scalars(select(WebAuthnCredential)).all()) == 1


def test_a_key_as_the_second_step_of_a_login(testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key, passkey=False)
    secret = give_totp(dbsession, user)
    assert start_login(testapp, user).json["methods"] == ["webauthn", "totp"]
    options = testapp.post_json("/api/login/webauthn/options", {}).json
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    assert options["userVerification"] == "preferred"
    # A security key without user verification is fine after a password.
    answer = testapp.post_json("/api/login/webauthn", {"credential": key.get(options, user_verified=False)})
    assert answer.json["user"]["id"] == user.id
    [success] = events(dbsession, "login:success")
    assert success.details["method"] == "password+webauthn"
    # The pending login is used up: its TOTP step fails now.
    assert "dh_pending" not in testapp.cookies
    testapp.post_json("/api/login/totp", {"code": code_now(secret)}, status=401)


def test_a_second_step_challenge_belongs_to_its_pending_login(testapp, make_testapp, factory, dbsession):
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    give_totp(dbsession, user)
    start_login(testapp, user)
    options = testapp.post_json("/api/login/webauthn/options", {}).json
    # Another browser with a pending login of its own cannot finish it.
    other = make_testapp()
    start_login(other, user)
    other.post_json("/api/login/webauthn", {"credential": key.get(options)}, status=401)
    testapp.get("/api/me", status=401)
    # Nor can a passkey login (no pending login): the purposes differ.
    third = make_testapp()
    options = testapp.post_json("/api/login/webauthn/options", {}).json
    third.post_json("/api/login/webauthn", {"credential": key.get(options)}, status=401)


def test_sudo_with_a_key(testapp, make_testapp, factory, dbsession, clock):
    user = factory.user()
    key = SoftAuthenticator()
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    register(testapp, csrf, key)
    clock.advance(seconds=901)
    testapp.post_json("/api/tokens", {"name": "ci"}, headers=headers, status=403)
    options = testapp.post_json("/api/sudo/webauthn/options", {}, headers=headers).json
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    assert testapp.post_json("/api/sudo", {"webauthn": key.get(options)}, headers=headers).json["sudo_until"]
    testapp.post_json("/api/tokens", {"name": "ci"}, headers=headers, status=201)
    assert events(dbsession, "sudo:success")[-1].details["method"] == "webauthn"
    # Its challenge is this session's: a login cannot use it, nor can it be used twice.
    options = testapp.post_json("/api/sudo/webauthn/options", {}, headers=headers).json
    credential = key.get(options)
    testapp.post_json("/api/sudo", {"webauthn": credential}, headers=headers)
    response = testapp.post_json("/api/sudo", {"webauthn": credential}, headers=headers, status=403)
    assert response.json["error"] == "invalid_code"
    options = testapp.post_json("/api/sudo/webauthn/options", {}, headers=headers).json
    other = make_testapp()
    other.post_json("/api/login/webauthn", {"credential": key.get(options)}, status=401)


def test_sudo_options_need_a_key(testapp, factory):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    testapp.post_json("/api/sudo/webauthn/options", {}, headers=headers, status=409)


def test_removing_a_key(testapp, factory, dbsession, clock):
    user = factory.user()
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    first = register(testapp, csrf, SoftAuthenticator(), "first")
    second = register(testapp, csrf, SoftAuthenticator(), "second")
    stranger = factory.user()
    theirs = give_key(dbsession, stranger, SoftAuthenticator())
    missing = testapp.delete(f"/api/account/webauthn/{theirs.id}", headers=headers, status=404)
    assert missing.json == testapp.delete("/api/account/webauthn/999999", headers=headers,
                                          status=404).json
    testapp.delete(f"/api/account/webauthn/{first['id']}", headers=headers, status=204)
    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled is True
    clock.advance(seconds=901)
    testapp.delete(f"/api/account/webauthn/{second['id']}", headers=headers, status=403)
    options = testapp.post_json("/api/sudo/webauthn/options", {}, headers=headers).json
    assert len(options["allowCredentials"]) == 1
    testapp.post_json("/api/sudo", {"password": "correct-horse-battery-staple-42"}, headers=headers)
    testapp.delete(f"/api/account/webauthn/{second['id']}", headers=headers, status=204)
    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled is False
    assert [e.details["name"] for e in events(dbsession, "mfa:webauthn_removed")] == ["first", "second"]


def test_webauthn_throttle_counts_by_account(make_testapp, factory, dbsession):
    testapp = make_testapp(dragonhoard__throttle__account_address_limit="3")
    user = factory.user()
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    for _ in range(3):
        testapp.post_json("/api/login/webauthn",
                          {"credential": assertion_for(testapp, key, user_verified=False)}, status=401)
    response = testapp.post_json("/api/login/webauthn", {"credential": assertion_for(testapp, key)},
                                 status=429)
    assert "Retry-After" in response.headers
    assert events(dbsession, "login:throttled")[0].details["method"] == "webauthn"


def test_the_options_carry_nothing_of_the_account_before_the_password(testapp, factory, dbsession):
    user = factory.user()
    give_key(dbsession, user, SoftAuthenticator())
    options = testapp.post_json("/api/login/webauthn/options", {}).json
    assert user.email not in json.dumps(options)
    assert options["allowCredentials"] == []
    assert len(base64.urlsafe_b64decode(options["challenge"] + "==")) == 32


@pytest.mark.parametrize("path", ["/api/login/webauthn/options", "/api/login/webauthn"])
def test_webauthn_login_endpoints_refuse_other_origins(testapp, path):
    response = testapp.post_json(path, {}, headers={"Origin": "http://evil.example"}, status=403)
    assert response.json["error"] == "csrf_failed"


def test_anonymous_passkey_challenges_are_bounded_per_address(testapp, dbsession, monkeypatch):
    """Each anonymous options call writes a challenge row for nobody yet: an
    address gets a bounded number an hour (429 with Retry-After), and its
    neighbours in another /64 are not held up."""
    from dragonhoard.security import throttle

    monkeypatch.setattr(throttle, "CHALLENGES_PER_HOUR", 3)
    for _ in range(3):
        testapp.post_json("/api/login/webauthn/options", {}, status=200)
    response = testapp.post_json("/api/login/webauthn/options", {}, status=429)
    assert response.json["error"] == "too_many_requests" and response.headers["Retry-After"].isdigit()
    assert len(dbsession.scalars(select(WebAuthnChallenge.id)).all()) == 3
    testapp.post_json("/api/login/webauthn/options", {}, status=200,
                      extra_environ={"REMOTE_ADDR": "198.51.100.20"})
