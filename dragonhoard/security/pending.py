"""Pending logins: the password was right, the second factor is to come.

A random secret in an HttpOnly, SameSite=Lax cookie (``dh_pending``,
``__Host-`` when cookies are secure), its SHA-256 in ``pending_logins``,
five minutes. It grants nothing: no identity source reads it; only the
second-factor steps of the login (security/login.py) do, and the first
that succeeds consumes it with one conditional UPDATE.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from webob.cookies import make_cookie

from .. import clock
from ..models import PendingLogin, User
from .tokens import hash_token

LIFETIME = timedelta(minutes=5)
#: Longer than any secret made here: not looked up.
MAX_SECRET_LENGTH = 100


@dataclass(frozen=True)
class Pending:
    id: int
    user: User


def start(request, user: User) -> list[tuple[str, str]]:
    """A pending login for ``user``; the header that sets its cookie."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    request.dbsession.add(PendingLogin(user_id=user.id, secret_hash=hash_token(secret),
                                       created_at=now, expires_at=now + LIFETIME))
    request.dbsession.flush()
    return [("Set-Cookie", _cookie(request, secret, int(LIFETIME.total_seconds())))]


def find(request) -> Pending | None:
    """The request's live pending login, or None: no cookie, unknown, used,
    expired, or the account deactivated or its password changed since."""
    secret = request.cookies.get(request.settings.pending_cookie_name)
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    found = request.dbsession.execute(
        select(PendingLogin, User).join(User, User.id == PendingLogin.user_id)
        .where(PendingLogin.secret_hash == hash_token(secret))
    ).first()
    if found is None:
        return None
    pending, user = found
    if (pending.used_at is not None or pending.expires_at <= clock.now() or not user.is_active
            or user.password_changed_at > pending.created_at or not user.mfa_enabled):
        return None
    return Pending(pending.id, user)


def consume(request, pending_id: int) -> bool:
    """Use the pending login up; False when another request did first."""
    now = clock.now()
    result = request.dbsession.execute(
        update(PendingLogin)
        .where(PendingLogin.id == pending_id, PendingLogin.used_at.is_(None),
               PendingLogin.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def clear(request) -> list[tuple[str, str]]:
    """The header that removes the cookie."""
    return [("Set-Cookie", _cookie(request, "", 0))]


def has_cookie(request) -> bool:
    return request.settings.pending_cookie_name in request.cookies


def _cookie(request, value: str, max_age: int) -> str:
    settings = request.settings
    return make_cookie(settings.pending_cookie_name, value, max_age=max_age, path="/",
                       secure=settings.cookie_secure, httponly=True, samesite="Lax")
