"""Login throttling: three counters in the database (DESIGN sections 4 and 11)."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from dragonhoard.models import AuditEvent, ThrottleHit
from dragonhoard.security.bookkeeping import Bookkeeping

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
    key = user.email.casefold()
    assert counters(dbsession) == {
        f"acct-addr:{key}|192.0.2.10": 2, f"acct:{key}": 2, "addr:192.0.2.10": 2,
    }
    api_login(app, user.email)
    assert counters(dbsession) == {f"acct:{key}": 2, "addr:192.0.2.10": 2}
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
    key = user.email.casefold()
    assert counters(dbsession)[f"acct:{key}"] == 1
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
