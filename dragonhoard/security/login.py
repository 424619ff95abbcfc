"""Checking a password the way DESIGN section 4 asks, for every place that does.

Form login, JSON login, sudo and the password change all go through
:func:`check_password`: throttled before the password is looked at, the
same work whether or not the account exists, counted as a failure unless it
was right, and taken back when it was.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models import User, canonical_email, find_by_email


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
    change); otherwise it is looked up by email, after the throttle.
    """
    registry = request.registry
    key = canonical_email(email)
    decision = registry.dh_throttle.password_attempt(request, key)
    if not decision.allowed:
        found = user if user is not None else find_by_email(request.dbsession, email)
        return PasswordCheck(found, retry_after=decision.retry_after)
    if user is None:
        user = find_by_email(request.dbsession, email)
    passwords = registry.dh_passwords
    right = passwords.verify(user.password_hash if user else None, password)
    # A deactivated account's right password is a failure like any other.
    if not right or user is None or not user.is_active:
        return PasswordCheck(user)
    registry.dh_throttle.password_right(request, key)
    if passwords.needs_rehash(user.password_hash):
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
