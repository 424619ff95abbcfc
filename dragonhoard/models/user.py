from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, false, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..clock import now
from .meta import Base, UTCDateTime

#: The longest email, and casefolded email, stored (RFC 5321's path limit).
MAX_EMAIL_LENGTH = 254


def canonical_email(email: str) -> str:
    """The form emails are compared in: casefolded (SQLite's NOCASE folds ASCII only).

    Casefolding can lengthen a string (``ß`` becomes ``ss``), so whoever
    stores it bounds this form, not the raw input.
    """
    return email.strip().casefold()


def canonical_username(username: str) -> str:
    return username.casefold()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    # Uniqueness lives on the casefolded copies, enforced by the database.
    email_canonical: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    username: Mapped[str] = mapped_column(String(39))
    username_canonical: Mapped[str] = mapped_column(String(39), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A WebAuthn credential or a confirmed TOTP (models/mfa.py): kept by
    # services/mfa.py with every change of factors, read with the credential.
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    def set_email(self, email: str) -> None:
        self.email = email.strip()
        self.email_canonical = canonical_email(email)

    def set_username(self, username: str) -> None:
        self.username = username
        self.username_canonical = canonical_username(username)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


def find_by_email(dbsession: Session, email: str) -> User | None:
    """The user with this email, compared casefolded."""
    canonical = canonical_email(email)
    if len(canonical) > MAX_EMAIL_LENGTH:
        return None  # no account can have it
    return dbsession.scalars(select(User).where(User.email_canonical == canonical)).first()
