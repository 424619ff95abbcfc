from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from .meta import Base, UTCDateTime

#: Project roles, weakest first: each role can do what the ones before it can.
ROLES = ("viewer", "editor", "owner")
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"


def roles_at_least(role: str) -> tuple[str, ...]:
    """``roles_at_least("editor") == ("editor", "owner")``."""
    return ROLES[ROLES.index(role):]


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Members without a second factor are refused its private data (DESIGN section 14).
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.slug!r}>"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'editor', 'owner')", name="role"),
        # "the projects I belong to" walks this index; the primary key serves
        # "the members of this project" and the context's membership join.
        Index("ix_memberships_user_id", "user_id"),
    )

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    project: Mapped[Project] = relationship(back_populates="memberships")
    user = relationship("User")
