"""OAuth apps and what their users granted them (DESIGN section 15).

Secrets are stored as SHA-256 only: client secrets, authorization codes,
device codes, user codes and refresh tokens. Access tokens are rows of
``api_tokens`` with ``grant_id`` set, so that the bearer source finds them
with the statement that finds personal tokens.

A grant is one user's consent to one app (unique per pair): its scopes and
projects are copied into every access token issued under it. Revoking the
grant deletes it, and with it (by cascade) every code, refresh token and
access token it produced.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from .meta import Base, UTCDateTime


class OAuthApp(Base):
    """A third-party app registered by a user (its owner)."""

    __tablename__ = "oauth_apps"
    __table_args__ = (Index("ix_oauth_apps_owner_id", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    homepage: Mapped[str] = mapped_column(String(500), default="")
    # One exact URI per line: matched character for character.
    redirect_uris: Mapped[str] = mapped_column(Text, default="")
    confidential: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())
    # SHA-256 of the client secret (confidential apps only).
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.redirect_uris.split("\n") if uri]

    def __repr__(self) -> str:
        return f"<OAuthApp {self.id} {self.client_id}>"


class OAuthGrant(Base):
    """One user's consent to one app: the scopes and projects it may use."""

    __tablename__ = "oauth_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "app_id"),
        Index("ix_oauth_grants_app_id", "app_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(String(200), default="")
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # When a token was last issued under it (a refresh counts as a use).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    app: Mapped[OAuthApp] = relationship()
    project_links: Mapped[list[OAuthGrantProject]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class OAuthGrantProject(Base):
    """A project a restricted grant reaches."""

    __tablename__ = "oauth_grant_projects"
    __table_args__ = (Index("ix_oauth_grant_projects_project_id", "project_id"),)

    grant_id: Mapped[int] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )

    project = relationship("Project")


class OAuthCode(Base):
    """An authorization code: 60 seconds, single-use, bound to its PKCE challenge."""

    __tablename__ = "oauth_codes"
    __table_args__ = (Index("ix_oauth_codes_grant_id", "grant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scopes: Mapped[str] = mapped_column(String(200), default="")
    code_challenge: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    grant: Mapped[OAuthGrant] = relationship()


class OAuthRefreshToken(Base):
    """A refresh token, rotated at every use.

    ``replay_answer`` holds, for the grace window after its use, the answer
    that use got, encrypted with a key only the refresh token itself gives
    (security/oauth/replay.py): a client's retry gets the same answer.
    """

    __tablename__ = "oauth_refresh_tokens"
    __table_args__ = (Index("ix_oauth_refresh_tokens_grant_id", "grant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replay_answer: Mapped[str | None] = mapped_column(Text, nullable=True)

    grant: Mapped[OAuthGrant] = relationship()


class OAuthDeviceCode(Base):
    """A device authorization (RFC 8628): pending until a user approves or
    denies it on ``/device``, then exchanged once for tokens."""

    __tablename__ = "oauth_device_codes"
    __table_args__ = (Index("ix_oauth_device_codes_app_id", "app_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    interval: Mapped[int] = mapped_column(Integer, default=5)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # pending, approved, denied or used.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="CASCADE"), nullable=True
    )

    app: Mapped[OAuthApp] = relationship()
    grant: Mapped[OAuthGrant | None] = relationship()
