"""Login throttling: three counters in the database (DESIGN sections 4 and 11)."""
from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from dragonhoard import application
from dragonhoard.models import AuditEvent, ThrottleHit
from dragonhoard.security import login as login_module
from dragonhoard.security.bookkeeping import Bookkeeping
from dragonhoard.security.passwords import Passwords
from dragonhoard.security.throttle import account_name, login_keys

from ..conftest import CLIENT_ADDR
from ..factories import PASSWORD
from ..helpers import api_login, form_login

LIMITS = dict(
    dragonhoard__throttle__account_address_limit="3",
    dragonhoard__throttle__account_limit="5",
    dragonhoard__throttle__address_limit="7",
    dragonhoard__throttle__window_seconds="900",
)


@pytest.fixture
def app(make_testapp):
    return make_testapp(**LIMITS)


def from_address(address: str) -> dict:
    return {"extra_environ": {"REMOTE_ADDR": address}}


def counters(dbsession) -> dict[str, int]:
    """Hits per key."""
    dbsession.expire_all()
    return dict(Counter(dbsession.scalars(select(ThrottleHit.key))))


def keys(app, email: str, address: str = CLIENT_ADDR) -> tuple[str, str, str]:
    """The app's keys for an attempt on ``email`` from ``address``:
    (account from this address, account, address)."""
    return login_keys(application.of(app.app.registry).settings.secret, email, address)


def database_gone() -> OperationalError:
    return OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))


def test_429_with_retry_after_even_with_the_right_password_then_recovery(app, factory, clock):
    user = factory.user()
    for _ in range(3):
        api_login(app, user.email, "wrong-password", status=401)
    response = api_login(app, user.email, status=429)
    assert response.json["error"] == "too_many_requests"
    assert 1 <= int(response.headers["Retry-After"]) <= 900
    clock.advance(seconds=899)
    assert int(api_login(app, user.email, status=429).headers["Retry-After"]) == 1
    clock.advance(seconds=1)
    api_login(app, user.email)


def test_the_form_is_throttled_too(app, factory):
    user = factory.user()
    for _ in range(3):
        form_login(app, user.email, "wrong-password", status=400)
    response = form_login(app, user.email, status=429)
    assert response.headers["Retry-After"].isdigit()
    assert "Too many failed attempts" in response.text


def test_unknown_accounts_are_throttled_the_same(app, factory):
    user = factory.user()
    for email in (user.email, "nobody@example.com"):
        for _ in range(3):
            api_login(app, email, "wrong-password", status=401)
    known = api_login(app, user.email, "wrong-password", status=429)
    unknown = api_login(app, "nobody@example.com", "wrong-password", status=429)
    assert known.json == unknown.json
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]


def test_a_stranger_elsewhere_does_not_lock_the_owner_out(app, factory):
    user = factory.user()
    for _ in range(3):
        api_login(app, user.email, "wrong-password", status=401, **from_address("198.51.100.1"))
    api_login(app, user.email, "wrong-password", status=429, **from_address("198.51.100.1"))
    api_login(app, user.email)  # from the owner's own address


def test_the_account_ceiling_counts_every_address(app, factory):
    user = factory.user()
    for n in range(5):
        api_login(app, user.email, "wrong-password", status=401, **from_address(f"198.51.100.{n}"))
    api_login(app, user.email, status=429, **from_address("198.51.100.99"))


def test_the_address_limit_counts_every_account(app, factory):
    for n in range(7):
        api_login(app, f"victim{n}@example.com", "wrong-password", status=401)
    user = factory.user()
    api_login(app, user.email, status=429)
    api_login(app, user.email, **from_address("198.51.100.5"))


def test_an_attempt_answered_429_counts_toward_nothing(app, factory, dbsession):
    user = factory.user()
    for _ in range(3):
        api_login(app, user.email, "wrong-password", status=401)
    before = counters(dbsession)
    for _ in range(4):
        api_login(app, user.email, "wrong-password", status=429)
    assert counters(dbsession) == before
    kinds = dbsession.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["login:failure"] * 3 + ["login:throttled"] * 4


def test_a_success_takes_its_attempt_back_and_clears_the_account_from_this_address(app, factory, dbsession):
    user = factory.user()
    for _ in range(2):
        api_login(app, user.email, "wrong-password", status=401)
    account_address, account, _address = keys(app, user.email)
    assert counters(dbsession) == {account_address: 2, account: 2, "addr:192.0.2.10": 2}
    api_login(app, user.email)
    assert counters(dbsession) == {account: 2, "addr:192.0.2.10": 2}
    # (the successful attempt's own hits were taken back)
    for _ in range(3):  # the per-address allowance is whole again
        api_login(app, user.email, "wrong-password", status=401)


def test_failures_are_counted_once_when_pyramid_retry_replays(app, factory, dbsession, monkeypatch):
    """The throttle and the audit row are written once, although the request ran twice."""
    from pyramid_retry import mark_error_retryable

    user = factory.user()
    real_audit = Bookkeeping.audit
    calls = []

    def audit_failing_once(self, kind, user_id, **details):
        calls.append(kind)
        if len(calls) == 1:
            error = RuntimeError("simulated serialization failure")
            mark_error_retryable(error)
            raise error
        return real_audit(self, kind, user_id, **details)

    monkeypatch.setattr(Bookkeeping, "audit", audit_failing_once)
    api_login(app, user.email, "wrong-password", status=401)
    assert calls == ["login:failure", "login:failure"]  # the request ran twice
    assert counters(dbsession)[keys(app, user.email)[1]] == 1
    assert dbsession.scalars(select(AuditEvent.kind)).all() == ["login:failure"]


def test_login_with_the_right_password_counts_nothing(app, factory, dbsession):
    user = factory.user()
    api_login(app, user.email, PASSWORD)
    assert counters(dbsession) == {}


def test_the_window_slides(app, factory, clock):
    """No fresh allowance at a window's end right after a full one."""
    user = factory.user()
    api_login(app, user.email, "wrong-password", status=401)
    clock.advance(seconds=899)
    for _ in range(2):
        api_login(app, user.email, "wrong-password", status=401)
    api_login(app, user.email, "wrong-password", status=429)
    clock.advance(seconds=1)  # the first failure leaves the window: room for one
    api_login(app, user.email, "wrong-password", status=401)
    response = api_login(app, user.email, "wrong-password", status=429)
    assert response.headers["Retry-After"] == "899"  # until the next oldest leaves


# -- what a key holds (keyed hashes, never the email) ---------------------


def test_account_names_are_a_keyed_hash_of_the_casefolded_email():
    name = account_name("secret-one", " Owner@Example.COM")
    assert name == hmac.new(b"secret-one", b"owner@example.com", hashlib.sha256).hexdigest()
    assert name == account_name("secret-one", "owner@example.com")
    assert name != account_name("secret-two", "owner@example.com")


def test_the_table_holds_no_email_nor_a_password_typed_in_its_place(app, factory, dbsession):
    user = factory.user(email="Owner@Example.com")
    api_login(app, "Owner@Example.com", "wrong-password", status=401)
    api_login(app, "OWNER@example.COM", "wrong-password", status=401)  # the same account
    api_login(app, "Hunter2-Typed-Here", "wrong-password", status=401)
    secret = application.of(app.app.registry).settings.secret.encode()
    owner = hmac.new(secret, b"owner@example.com", hashlib.sha256).hexdigest()
    typo = hmac.new(secret, b"hunter2-typed-here", hashlib.sha256).hexdigest()
    assert counters(dbsession) == {
        f"acct-addr:{owner}|192.0.2.10": 2, f"acct:{owner}": 2,
        f"acct-addr:{typo}|192.0.2.10": 1, f"acct:{typo}": 1,
        "addr:192.0.2.10": 3,
    }
    assert keys(app, user.email) == (f"acct-addr:{owner}|192.0.2.10", f"acct:{owner}",
                                     "addr:192.0.2.10")


def test_an_email_that_grows_when_casefolded_fits_the_key(app, dbsession):
    """240 'ß' casefold to 480 's': the key used to overflow its column (PostgreSQL)."""
    email = "ß" * 240 + "@example.com"
    for _ in range(3):
        api_login(app, email, "wrong-password", status=401)
    # Capital sharp s casefolds to "ss" too: the same account, exactly.
    api_login(app, "\N{LATIN CAPITAL LETTER SHARP S}" * 240 + "@EXAMPLE.com", status=429)
    assert max(len(key) for key in counters(dbsession)) < 100


# -- addresses: IPv6 by its /64 --------------------------------------------


def test_addresses_of_one_ipv6_64_share_the_budgets(app, factory, dbsession):
    user = factory.user()
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:fff0"):
        api_login(app, user.email, "wrong-password", status=401, **from_address(address))
    assert counters(dbsession)["addr:2001:db8:1:2::/64"] == 3
    # The account from this /64 is at its limit, whichever address of it asks.
    api_login(app, user.email, status=429, **from_address("2001:db8:1:2:abcd::9"))
    api_login(app, user.email, **from_address("2001:db8:1:3::1"))  # the next /64 is another


def test_the_address_limit_counts_a_whole_ipv6_64(app, factory):
    for n in range(7):
        api_login(app, f"victim{n}@example.com", "wrong-password", status=401,
                  **from_address(f"2001:db8:1:2::{n + 1:x}"))
    user = factory.user()
    api_login(app, user.email, status=429, **from_address("2001:db8:1:2:8000::1"))
    api_login(app, user.email, **from_address("2001:db8:1:3::1"))


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(app, factory, dbsession):
    user = factory.user()
    for address in ("198.51.100.7", "::ffff:198.51.100.7", "198.51.100.7"):
        api_login(app, user.email, "wrong-password", status=401, **from_address(address))
    assert counters(dbsession)["addr:198.51.100.7"] == 3
    api_login(app, user.email, status=429, **from_address("::ffff:198.51.100.7"))


def test_unparsable_addresses_share_one_budget(app, factory, dbsession):
    user = factory.user()
    for address in ("", "not-an-address", "unix:/run/dragonhoard.sock"):
        api_login(app, user.email, "wrong-password", status=401, **from_address(address))
    assert counters(dbsession)["addr:unknown"] == 3
    api_login(app, user.email, status=429, **from_address("still-not-one"))


def test_leak_reports_count_a_whole_ipv6_64(make_testapp, dbsession):
    testapp = make_testapp(dragonhoard__leak_reports_per_hour="2")
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        testapp.post_json("/api/credentials/revoke", {"tokens": []}, status=202,
                          **from_address(address))
    testapp.post_json("/api/credentials/revoke", {"tokens": []}, status=429,
                      **from_address("2001:db8:1:2:ffff::1"))
    testapp.post_json("/api/credentials/revoke", {"tokens": []}, status=202,
                      **from_address("2001:db8:1:3::1"))
    assert counters(dbsession) == {"leak:2001:db8:1:2::/64": 2, "leak:2001:db8:1:3::/64": 1}


# -- a login cut off by the database counts nothing -------------------------


def failing_once(monkeypatch, owner, name: str, error) -> list:
    """Make ``owner.name`` raise ``error`` on its first call; the calls made."""
    real = getattr(owner, name)
    calls = []

    def fake(*args, **kw):
        calls.append(name)
        if len(calls) == 1:
            raise error
        return real(*args, **kw)

    monkeypatch.setattr(owner, name, fake)
    return calls


def test_a_login_whose_lookup_fails_leaves_no_hit(app, factory, dbsession, monkeypatch):
    user = factory.user()
    failing_once(monkeypatch, login_module, "find_by_email", database_gone())
    response = api_login(app, user.email, status=503)
    assert response.headers["Retry-After"].isdigit()
    assert counters(dbsession) == {}
    api_login(app, user.email)
    assert counters(dbsession) == {}


def test_an_attempt_cut_off_before_its_verdict_is_taken_back(app, factory, dbsession, monkeypatch):
    user = factory.user()
    failing_once(monkeypatch, Passwords, "verify", database_gone())
    api_login(app, user.email, "wrong-password", status=503)
    assert counters(dbsession) == {}
    api_login(app, user.email, "wrong-password", status=401)  # a verdict: counted
    assert set(counters(dbsession).values()) == {1}


def test_a_replay_after_a_take_back_counts_the_wrong_password_once(app, factory, dbsession,
                                                                  monkeypatch):
    from pyramid_retry import mark_error_retryable

    user = factory.user()
    error = RuntimeError("simulated serialization failure")
    mark_error_retryable(error)
    calls = failing_once(monkeypatch, Passwords, "verify", error)
    api_login(app, user.email, "wrong-password", status=401)
    assert calls == ["verify", "verify"]  # the request ran twice
    assert counters(dbsession) == dict.fromkeys(keys(app, user.email), 1)


def test_a_take_back_that_fails_too_hides_nothing(app, factory, dbsession, monkeypatch):
    """Best effort: the hits stay, and the answer is the first failure's."""
    user = factory.user()
    throttle = application.of(app.app.registry).throttle

    class BrokenEngine:
        def begin(self):
            raise RuntimeError("the take-back failed too")

    def verify_failing(self, password_hash, password):
        monkeypatch.setattr(throttle, "engine", BrokenEngine())
        raise database_gone()

    monkeypatch.setattr(Passwords, "verify", verify_failing)
    api_login(app, user.email, "wrong-password", status=503)
    assert counters(dbsession) == dict.fromkeys(keys(app, user.email), 1)
