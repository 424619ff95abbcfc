from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from .meta import Base, UTCDateTime


class Treasure(Base):
    __tablename__ = "treasures"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("cool_factor BETWEEN 0 AND 10", name="cool_factor_range"),
        CheckConstraint("length(name) BETWEEN 2 AND 50", name="name_length"),
        # Lists are "newest first, then by id", per owner, per project and
        # for the published ones: one index for each way in.
        Index("ix_treasures_owner_created", "owner_id", "created_at", "id"),
        Index("ix_treasures_project_created", "project_id", "created_at", "id"),
        Index("ix_treasures_published_created", "is_published", "created_at", "id"),
        # Everything the caller may see, newest first, walked until a page is full.
        Index("ix_treasures_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    cool_factor: Mapped[int] = mapped_column(SmallInteger, default=0)
    plundered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    owner = relationship("User")
    project = relationship("Project")

    def __repr__(self) -> str:
        return f"<Treasure {self.id} {self.name!r}>"
