"""Second factors raced (DESIGN section 14): one TOTP step, one recovery code,
one WebAuthn assertion and one pending login are each used once, however
many requests bring them at the same moment (conditional UPDATEs)."""
from __future__ import annotations

from .mfa import code_now, give_key, give_recovery_codes, give_totp, start_login
from .soft_authenticator import SoftAuthenticator
from .test_races import statuses, together

THREADS = 4
ROUNDS = 3


def pending_browsers(make_testapp, user, count: int = THREADS) -> list:
    browsers = []
    for _ in range(count):
        app = make_testapp()
        start_login(app, user)
        browsers.append(app)
    return browsers


def test_one_code_logs_in_once(make_testapp, factory, dbsession, clock):
    user = factory.user()
    secret = give_totp(dbsession, user)
    for _ in range(ROUNDS):
        clock.advance(seconds=30)
        code = code_now(secret)
        browsers = pending_browsers(make_testapp, user)
        answers = together([lambda app=app, code=code: app.post_json("/api/login/totp", {"code": code},
                                                                     status="*")
                            for app in browsers])
        assert statuses(answers) == [200] + [401] * (THREADS - 1)


def test_one_pending_login_logs_in_once(make_testapp, factory, dbsession, clock):
    user = factory.user()
    give_totp(dbsession, user)
    codes = give_recovery_codes(dbsession, user)
    for round_ in range(len(codes) // THREADS):
        [first] = pending_browsers(make_testapp, user, 1)
        browsers = [first] + [make_testapp() for _ in range(THREADS - 1)]
        for app in browsers[1:]:
            app.set_cookie("dh_pending", first.cookies["dh_pending"])
        # Each brings another right recovery code: the pending login decides.
        answers = together([
            lambda app=app, code=code: app.post_json("/api/login/recovery", {"code": code}, status="*")
            for app, code in zip(browsers, codes[THREADS * round_:THREADS * (round_ + 1)], strict=True)
        ])
        assert statuses(answers) == [200] + [401] * (THREADS - 1)


def test_one_recovery_code_and_one_assertion_are_used_once(make_testapp, factory, dbsession):
    user = factory.user()
    give_totp(dbsession, user)
    codes = give_recovery_codes(dbsession, user)
    for code in codes[:2]:
        browsers = pending_browsers(make_testapp, user)
        answers = together([lambda app=app, code=code: app.post_json("/api/login/recovery",
                                                                     {"code": code}, status="*")
                            for app in browsers])
        assert statuses(answers) == [200] + [401] * (THREADS - 1)
    key = SoftAuthenticator()
    give_key(dbsession, user, key)
    first = make_testapp()
    credential = key.get(first.post_json("/api/login/webauthn/options", {}).json)
    browsers = [first] + [make_testapp() for _ in range(THREADS - 1)]
    answers = together([lambda app=app: app.post_json("/api/login/webauthn", {"credential": credential},
                                                      status="*") for app in browsers])
    assert statuses(answers) == [200] + [401] * (THREADS - 1)
