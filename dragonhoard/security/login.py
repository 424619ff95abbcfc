"""Checking a password the way DESIGN section 4 asks, for every place that does.

Form login, JSON login, sudo and the password change all go through
:func:`check_password`: throttled before the password is looked at, the
same work whether or not the account exists, counted as a failure unless it
was right, and taken back when it was, or when no verdict was reached.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models import User, find_by_email


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    ok: bool = False
    #: Seconds to wait, when the attempt was refused by the throttle.
    retry_after: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None


def check_password(request, email: str, password: str, *, user: User | None = None) -> PasswordCheck:
    """Whether ``password`` is right for the active account ``email``.

    ``user`` is given when the account is already known (sudo, password
    change); otherwise it is looked up by email.
    """
    throttle = request.throttle
    passwords = request.passwords
    # Everything read on the request's own connection is read before the
    # count: a failure there must leave no hit behind (counters hold failures).
    if user is None:
        user = find_by_email(request.dbsession, email)
    password_hash = user.password_hash if user is not None else None
    # A deactivated account's right password is a failure like any other.
    active = user is not None and user.is_active
    decision = throttle.password_attempt(request, email)
    if not decision.allowed:
        return PasswordCheck(user, retry_after=decision.retry_after)
    # Cut off before its verdict, the attempt is no failed guess: taken back.
    try:
        right = passwords.verify(password_hash, password)
    except Exception:
        throttle.password_unjudged(request, email)
        raise
    if not right or not active:
        return PasswordCheck(user)
    throttle.password_right(request, email)
    if passwords.needs_rehash(password_hash):
        user.password_hash = passwords.hash(password)
    return PasswordCheck(user, ok=True)


@dataclass(frozen=True)
class PasswordRefusal:
    """Why a re-entered password was refused: answered as JSON or on a page."""

    status: int
    error: str
    message: str
    headers: dict[str, str]


def confirm_password(request, user: User, password: str, *, via: str) -> PasswordRefusal | None:
    """Check the signed-in user's password again (sudo, password change).

    A wrong one counts like a failed login of that account from that address
    and is logged as ``sudo:failure``; past the throttle's limits it is 429.
    """
    check = check_password(request, user.email, password, user=user)
    if check.throttled:
        request.bookkeeping.audit("login:throttled", user.id, via=via)
        return PasswordRefusal(429, "too_many_requests", "Too many failed attempts; try again later.",
                               {"Retry-After": str(check.retry_after)})
    if not check.ok:
        request.bookkeeping.audit("sudo:failure", user.id, via=via)
        return PasswordRefusal(403, "invalid_password", "The password is wrong.", {})
    return None
