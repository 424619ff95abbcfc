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
