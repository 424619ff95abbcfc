from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from .meta import Base, UTCDateTime


class LoginSession(Base):
    """A browser's login. The cookie carries a random secret; this row its SHA-256."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The absolute limit; the idle limit is last_seen_at + the idle timeout.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Until when the password counts as just entered (sudo mode).
    sudo_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"
