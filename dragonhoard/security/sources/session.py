"""The login-session cookie: a random secret, its SHA-256 in ``login_sessions``.

A missing, unknown, revoked, idle, expired or outdated session is simply no
identity (the caller is anonymous): browsers carry old cookies as a matter of
course, and the answer for them is the login page, not an error.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import update
from webob.cookies import make_cookie

from ... import clock
from ...models import LoginSession, User
from ..identity import Identity, SessionCredential
from ..sudo import window_end
from ..tokens import hash_token

TOUCH_INTERVAL = timedelta(seconds=60)


class SessionSource:
    name = "session"
    reads = "cookie"

    def __init__(self, settings) -> None:
        self.settings = settings
        self.cookie_name = settings.session_cookie_name
        self.idle = timedelta(seconds=settings.session_idle_seconds)
        self.lifetime = timedelta(seconds=settings.session_max_seconds)

    def identify(self, request) -> Identity | None:
        secret = request.cookies.get(self.cookie_name)
        if not secret:
            return None
        row = request.hot.login_session(hash_token(secret))
        if row is None:
            return None
        now = clock.now()
        if (
            row.revoked_at is not None
            or not row.is_active
            or row.expires_at <= now
            or row.last_seen_at + self.idle <= now
            # A password change ends every session that predates it (the
            # session that made the change is replaced by a new one).
            or row.password_changed_at > row.created_at
        ):
            return None
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            request.bookkeeping.touch_session(row.id)
        return Identity(
            user_id=row.user_id,
            username=row.username,
            email=row.email,
            is_admin=row.is_admin,
            created_at=row.user_created_at,
            has_mfa=row.mfa_enabled,
            session=SessionCredential(
                id=row.id,
                created_at=row.created_at,
                expires_at=min(row.expires_at, now + self.idle),
                sudo_until=row.sudo_until,
            ),
        )

    def start(self, request, user: User) -> tuple[list[tuple[str, str]], Identity]:
        """A new session with a new secret (never the one the browser sent)."""
        now = clock.now()
        previous = request.identity
        if previous is not None and previous.session is not None:
            self._revoke(request, previous.session.id, now)
        secret = secrets.token_urlsafe(32)
        row = LoginSession(
            user_id=user.id,
            secret_hash=hash_token(secret),
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.lifetime,
            sudo_until=window_end(now, self.settings.sudo_seconds),
            ip=request.client_addr,
            user_agent=(request.user_agent or "")[:512],
        )
        request.dbsession.add(row)
        request.dbsession.flush()
        identity = Identity(
            user_id=user.id,
            username=user.username,
            email=user.email,
            is_admin=user.is_admin,
            created_at=user.created_at,
            has_mfa=user.mfa_enabled,
            session=SessionCredential(
                id=row.id,
                created_at=now,
                expires_at=min(row.expires_at, now + self.idle),
                sudo_until=row.sudo_until,
            ),
        )
        return [("Set-Cookie", self._cookie(secret, self.settings.session_max_seconds))], identity

    def end(self, request, identity: Identity | None) -> list[tuple[str, str]]:
        if identity is not None and identity.session is not None:
            self._revoke(request, identity.session.id, clock.now())
        # Flash messages and the CSRF token go with the login.
        request.session.invalidate()
        return [("Set-Cookie", self._cookie("", 0))]

    def _revoke(self, request, session_id: int, now) -> None:
        request.dbsession.execute(
            update(LoginSession)
            .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def _cookie(self, value: str, max_age: int) -> str:
        return make_cookie(
            self.cookie_name,
            value,
            max_age=max_age,
            path="/",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="Lax",
        )
