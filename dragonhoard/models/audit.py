from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from .meta import Base, UTCDateTime

#: Every kind of security-log event (DESIGN section 7).
EVENT_KINDS = (
    "user:registered",
    "login:success",
    "login:failure",
    "login:throttled",
    "logout",
    "session:revoked",
    "password:changed",
    "email:changed",
    "sudo:success",
    "sudo:failure",
    "token:created",
    "token:rotated",
    "token:revoked",
    "token:revoked_leak",
    "token:refused",
    "user:deactivated",
    "user:activated",
)


class AuditEvent(Base):
    """One line of a security log. ``details`` never holds a secret."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_user_created", "user_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Null for events about no account (a failed login for an unknown email).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    details: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict
    )
