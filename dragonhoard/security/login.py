"""Logging in, and checking a password the way DESIGN section 4 asks.

:func:`log_in` is the one login, for the form and the JSON API alike. Every
password check goes through :func:`check_password`: throttled before the
password is looked at, the same work whether or not the account exists,
counted as a failure unless it was right, and taken back when it was, or
when no verdict was reached.

An account with a second factor (DESIGN section 14) gets no session for a
right password: :func:`log_in` starts a pending login (security/pending.py)
instead, and :func:`log_in_with_code` or :func:`log_in_with_webauthn`
finishes it; a passkey logs in by itself. Every way in ends in
:func:`_finish`: a new session, a new CSRF token, ``login:success`` naming
the method.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pyramid.security import forget, remember

from ..errors import Throttled, WrongPassword
from ..models import EventKind, User, find_by_email
from . import pending
from .second_factor import FactorCheck, check_assertion, check_recovery, check_totp, methods_of


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


def confirm_password(request, user: User, password: str, *, via: str) -> None:
    """Check the signed-in user's password again (sudo, password change).

    A wrong one counts like a failed login of that account from that address
    and is logged as ``sudo:failure`` (WrongPassword); past the throttle's
    limits it is Throttled.
    """
    check = check_password(request, user.email, password, user=user)
    if check.throttled:
        request.bookkeeping.audit(EventKind.LOGIN_THROTTLED, user.id, via=via)
        raise Throttled(check.retry_after)
    if not check.ok:
        request.bookkeeping.audit(EventKind.SUDO_FAILURE, user.id, via=via)
        raise WrongPassword()


@dataclass(frozen=True)
class LoginOutcome:
    """How a login ended: logged in (``headers`` set the session cookie),
    refused, throttled (``retry_after``), or waiting for a second factor
    (``mfa_methods``: those the account has; ``headers`` set the pending
    login's cookie)."""

    user: User | None
    logged_in: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)
    retry_after: int | None = None
    mfa_methods: tuple[str, ...] = ()
    #: After a recovery code: how many unused ones are left.
    recovery_left: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None

    @property
    def mfa_required(self) -> bool:
        return bool(self.mfa_methods)


def log_in(request, email: str, password: str, *, via: str) -> LoginOutcome:
    """Check the password and, when it is right, start a login session with a
    new secret and CSRF token, or, for an account with a second factor, a
    pending login; every outcome leaves its security-log event."""
    check = check_password(request, email, password)
    user = check.user
    user_id = user.id if user is not None else None
    if check.throttled:
        request.bookkeeping.audit(EventKind.LOGIN_THROTTLED, user_id, via=via)
        return LoginOutcome(user, retry_after=check.retry_after)
    if not check.ok:
        request.bookkeeping.audit(EventKind.LOGIN_FAILURE, user_id, via=via)
        return LoginOutcome(user)
    if user.mfa_enabled:
        methods = methods_of(request.dbsession, user.id)
        # mfa_enabled with no factor left would be a bug: no session for it either.
        return LoginOutcome(user, headers=pending.start(request, user),
                            mfa_methods=tuple(methods or ("totp",)))
    return _finish(request, user, "password", via=via)


def log_in_with_code(request, method: str, code: str, *, via: str) -> LoginOutcome:
    """The second step of a pending login: a TOTP code (``method`` ``totp``)
    or a recovery code (``recovery``). Refused without a live pending login."""
    found = pending.find(request)
    if found is None:
        return LoginOutcome(None)
    checker = check_totp if method == "totp" else check_recovery
    return _after(request, checker(request, found.user, code, via=via), f"password+{method}",
                  via=via, pending_id=found.id)


def log_in_with_webauthn(request, credential, *, via: str) -> LoginOutcome:
    """A WebAuthn assertion: the second step of the request's pending login,
    or, without one, a passkey login by itself (user verification required:
    it counts as two factors)."""
    found = pending.find(request)
    if found is not None:
        check = check_assertion(request, credential, purpose="second-factor", via=via,
                                user=found.user, pending_login_id=found.id)
        return _after(request, check, "password+webauthn", via=via, pending_id=found.id)
    check = check_assertion(request, credential, purpose="passkey", via=via,
                            require_user_verification=True)
    return _after(request, check, "passkey", via=via)


def _after(request, check: FactorCheck, method: str, *, via: str,
           pending_id: int | None = None) -> LoginOutcome:
    if check.throttled:
        return LoginOutcome(check.user, retry_after=check.retry_after)
    if not check.ok:
        return LoginOutcome(check.user)
    # The pending login is single-use: of two right second factors, one logs in.
    if pending_id is not None and not pending.consume(request, pending_id):
        return LoginOutcome(check.user)
    headers = _finish(request, check.user, method, via=via).headers
    if pending_id is not None:
        headers.extend(pending.clear(request))
    return LoginOutcome(check.user, logged_in=True, headers=headers,
                        recovery_left=check.recovery_left)


def _finish(request, user: User, method: str, *, via: str) -> LoginOutcome:
    headers = remember(request, user.id, user=user)
    request.bookkeeping.audit(EventKind.LOGIN_SUCCESS, user.id, via=via, method=method,
                              session_id=request.identity.session.id)
    return LoginOutcome(user, logged_in=True, headers=headers)


def log_out(request) -> list[tuple[str, str]]:
    """End the request's login session (if any); the headers that clear its cookie."""
    identity = request.identity
    if identity is not None and identity.session is not None:
        request.bookkeeping.audit(EventKind.LOGOUT, identity.user_id, session_id=identity.session.id)
    return forget(request)
