from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from .meta import Base, UTCDateTime


class ApiToken(Base):
    """A personal access token, or an OAuth access token (``grant_id`` set).
    Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        Index("ix_api_tokens_owner_id", "owner_id"),
        Index("ix_api_tokens_grant_id", "grant_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(12))
    # Space-separated: read on every bearer request, so kept in the row.
    scopes: Mapped[str] = mapped_column(String(200), default="")
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Space-separated CIDR ranges; empty means from anywhere.
    allowed_networks: Mapped[str] = mapped_column(String(2000), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    # When a refused use was last logged, so a retry loop logs once a minute.
    last_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rotated_from: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), nullable=True
    )

    # Set for an OAuth access token (``dho_``): the grant it was issued under.
    # Personal access tokens have none.
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="CASCADE"), nullable=True
    )

    owner = relationship("User")
    project_links: Mapped[list[ApiTokenProject]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def network_list(self) -> list[str]:
        return self.allowed_networks.split()

    def is_live(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.display_prefix}>"


class ApiTokenProject(Base):
    """A project a restricted token may reach. Deleting the project deletes
    the row and leaves the token restricted: it never widens a token."""

    __tablename__ = "api_token_projects"
    __table_args__ = (Index("ix_api_token_projects_project_id", "project_id"),)

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )

    project = relationship("Project")
