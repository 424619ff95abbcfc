from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from .meta import Base, UTCDateTime


class EventKind(StrEnum):
    """Every kind of security-log event (DESIGN section 7); writing any other
    kind is an error (``Bookkeeping.audit``)."""

    USER_REGISTERED = "user:registered"
    LOGIN_SUCCESS = "login:success"
    LOGIN_FAILURE = "login:failure"
    LOGIN_THROTTLED = "login:throttled"
    LOGOUT = "logout"
    SESSION_REVOKED = "session:revoked"
    PASSWORD_CHANGED = "password:changed"
    EMAIL_CHANGED = "email:changed"
    SUDO_SUCCESS = "sudo:success"
    SUDO_FAILURE = "sudo:failure"
    TOKEN_CREATED = "token:created"
    TOKEN_ROTATED = "token:rotated"
    TOKEN_REVOKED = "token:revoked"
    TOKEN_REVOKED_LEAK = "token:revoked_leak"
    TOKEN_REFUSED = "token:refused"
    #: An admin's changes to another account (the administration pages): the
    #: target's log says what changed, the admin's log says who they changed.
    USER_ADMIN_GRANTED = "user:admin_granted"
    USER_ADMIN_REVOKED = "user:admin_revoked"
    ADMIN_ACTION = "admin:action"
    USER_DEACTIVATED = "user:deactivated"
    USER_ACTIVATED = "user:activated"
    MFA_TOTP_ENABLED = "mfa:totp_enabled"
    MFA_TOTP_DISABLED = "mfa:totp_disabled"
    MFA_WEBAUTHN_ADDED = "mfa:webauthn_added"
    MFA_WEBAUTHN_REMOVED = "mfa:webauthn_removed"
    MFA_RECOVERY_GENERATED = "mfa:recovery_generated"
    MFA_RECOVERY_USED = "mfa:recovery_used"
    MFA_FAILURE = "mfa:failure"
    MFA_RESET = "mfa:reset"
    OAUTH_APP_CREATED = "oauth:app_created"
    OAUTH_APP_DELETED = "oauth:app_deleted"
    #: Name, homepage, redirect URIs changed (not a DESIGN kind of its own:
    #: ``oauth:app_created``'s sibling, so that every app change is logged).
    OAUTH_APP_CHANGED = "oauth:app_changed"
    OAUTH_SECRET_ROTATED = "oauth:secret_rotated"
    OAUTH_GRANTED = "oauth:granted"
    OAUTH_REVOKED = "oauth:revoked"
    OAUTH_REFRESH_REUSED = "oauth:refresh_reused"


EVENT_KINDS = tuple(kind.value for kind in EventKind)


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
