"""Factories for every model: rows committed on the test's own session, so
that the app (on its own connections) sees them."""
from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timedelta

import argon2

from dragonhoard import clock
from dragonhoard.models import (
    ApiToken,
    ApiTokenProject,
    AuditEvent,
    LoginSession,
    Membership,
    OAuthApp,
    Project,
    ThrottleHit,
    Treasure,
    User,
)
from dragonhoard.security import tokens

PASSWORD = "correct-horse-battery-staple-42"
# Hashed once with the tests' cheap argon2 parameters (conftest.BASE_SETTINGS).
_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD_HASH = _HASHER.hash(PASSWORD)

_numbers = itertools.count(1)


class Factory:
    def __init__(self, dbsession) -> None:
        self.db = dbsession

    def _save(self, obj):
        self.db.add(obj)
        self.db.commit()
        return obj

    def user(self, *, username: str | None = None, email: str | None = None,
             password: str | None = None, is_admin: bool = False, is_active: bool = True,
             **kw) -> User:
        n = next(_numbers)
        username = username or f"dragon{n}"
        user = User(
            password_hash=_HASHER.hash(password) if password else PASSWORD_HASH,
            is_admin=is_admin,
            is_active=is_active,
            **kw,
        )
        user.set_email(email or f"{username}@example.com")
        user.set_username(username)
        return self._save(user)

    def project(self, *, slug: str | None = None, name: str | None = None,
                members: dict[User, str] | None = None, **kw) -> Project:
        n = next(_numbers)
        project = self._save(Project(slug=slug or f"project-{n}", name=name or f"Project {n}", **kw))
        for user, role in (members or {}).items():
            self.membership(project, user, role)
        return project

    def membership(self, project: Project, user: User, role: str) -> Membership:
        return self._save(Membership(project_id=project.id, user_id=user.id, role=role))

    def treasure(self, owner: User, *, project: Project | None = None, name: str | None = None,
                 is_published: bool = False, **kw) -> Treasure:
        n = next(_numbers)
        return self._save(
            Treasure(
                owner_id=owner.id,
                project_id=project.id if project else None,
                name=name or f"Treasure {n}",
                is_published=is_published,
                **kw,
            )
        )

    def token(self, owner: User, *, scopes=(), name: str | None = None,
              projects: list[Project] | None = None, expires_at: datetime | None = None,
              never_expires: bool = False, allowed_networks: str = "", revoked_at=None,
              **kw) -> tuple[ApiToken, str]:
        """A token row and its secret."""
        secret = tokens.generate()
        if expires_at is None and not never_expires:
            expires_at = clock.now() + timedelta(days=30)
        row = ApiToken(
            owner_id=owner.id,
            name=name or f"token {next(_numbers)}",
            token_hash=tokens.hash_token(secret),
            display_prefix=tokens.display_prefix(secret),
            scopes=" ".join(scopes),
            is_restricted=projects is not None,
            allowed_networks=allowed_networks,
            expires_at=expires_at,
            revoked_at=revoked_at,
            **kw,
        )
        self._save(row)
        for project in projects or ():
            self._save(ApiTokenProject(token_id=row.id, project_id=project.id))
        return row, secret

    def oauth_app(self, owner: User, *, confidential: bool = True, name: str | None = None,
                  redirect_uris=("http://127.0.0.1:8765/callback",),
                  homepage: str = "https://organizer.example") -> tuple[OAuthApp, str | None]:
        """A registered OAuth app and its client secret (None: a public app)."""
        secret = tokens.generate(tokens.CLIENT_SECRET_PREFIX) if confidential else None
        app = self._save(OAuthApp(
            owner_id=owner.id, client_id=f"dhc_test{next(_numbers):020d}",
            name=name or f"Organizer {next(_numbers)}", homepage=homepage,
            redirect_uris="\n".join(redirect_uris), confidential=confidential,
            secret_hash=tokens.hash_token(secret) if secret else None,
        ))
        return app, secret

    def login_session(self, user: User, *, created_at: datetime | None = None,
                      lifetime: timedelta = timedelta(days=14), **kw) -> tuple[LoginSession, str]:
        """A session row and the cookie secret."""
        secret = secrets.token_urlsafe(32)
        now = created_at or clock.now()
        row = LoginSession(
            user_id=user.id,
            secret_hash=tokens.hash_token(secret),
            created_at=now,
            last_seen_at=kw.pop("last_seen_at", now),
            expires_at=now + lifetime,
            **kw,
        )
        return self._save(row), secret

    def audit_event(self, kind: str, user: User | None = None, **kw) -> AuditEvent:
        return self._save(AuditEvent(kind=kind, user_id=user.id if user else None, **kw))

    def throttle_hit(self, key: str, at: datetime) -> ThrottleHit:
        return self._save(ThrottleHit(key=key, at=at))
