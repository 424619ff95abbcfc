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
from ...models.hot import HotStatement
from ..identity import Identity, SessionCredential
from ..tokens import hash_token

#: Authentication: one statement, the session joined with its user.
SESSION_LOOKUP = HotStatement(
    """
    SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.sudo_until,
           s.revoked_at, u.username, u.email, u.is_admin, u.is_active, u.password_changed_at,
           u.created_at AS user_created_at
    FROM login_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.secret_hash = :secret_hash
    """
)

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
        dialect = request.registry.dh_dialect
        row = SESSION_LOOKUP.one(
            request.db_cursor, dialect, {"secret_hash": hash_token(secret)}
        )
        if row is None:
            return None
        (session_id, user_id, created_at, last_seen_at, expires_at, sudo_until,
         revoked_at, username, email, is_admin, is_active, password_changed_at,
         user_created_at) = row  # fmt: skip
        ts = dialect.timestamp
        now = clock.now()
        created_at, last_seen_at, expires_at = ts(created_at), ts(last_seen_at), ts(expires_at)
        if (
            revoked_at is not None
            or not is_active
            or expires_at <= now
            or last_seen_at + self.idle <= now
            # A password change ends every session that predates it (the
            # session that made the change is replaced by a new one).
            or ts(password_changed_at) > created_at
        ):
            return None
        if now - last_seen_at >= TOUCH_INTERVAL:
            request.bookkeeping.touch_session(session_id)
        return Identity(
            user_id=user_id,
            username=username,
            email=email,
            is_admin=bool(is_admin),
            created_at=ts(user_created_at),
            session=SessionCredential(
                id=session_id,
                created_at=created_at,
                expires_at=min(expires_at, now + self.idle),
                sudo_until=ts(sudo_until),
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
            sudo_until=now + timedelta(seconds=self.settings.sudo_seconds),
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
