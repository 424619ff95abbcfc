"""Second factors (DESIGN section 14): WebAuthn credentials, a TOTP
authenticator, recovery codes; and the short-lived rows of a login or a
ceremony in progress (WebAuthn challenges, pending logins).

``users.mfa_enabled`` says whether the user has a second factor (a WebAuthn
credential or a confirmed TOTP): services/mfa.py keeps it in the same
transaction as every change of factors, so that authentication reads it
from the user row it loads anyway.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from .meta import Base, UTCDateTime

#: The longest credential id a browser may hand over is 1023 bytes: 1364
#: characters of base64url.
MAX_CREDENTIAL_ID_LENGTH = 1400
MAX_FACTOR_NAME_LENGTH = 100
#: What a WebAuthn challenge was issued for.
CHALLENGE_PURPOSES = ("register", "second-factor", "passkey", "sudo")


class WebAuthnCredential(Base):
    """A passkey or a security key: its public key, never a secret."""

    __tablename__ = "webauthn_credentials"
    __table_args__ = (Index("ix_webauthn_credentials_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: base64url, as browsers send it in an assertion's ``rawId``.
    credential_id: Mapped[str] = mapped_column(String(MAX_CREDENTIAL_ID_LENGTH), unique=True)
    #: COSE-encoded.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: The authenticator's signature counter (0 where it keeps none).
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(MAX_FACTOR_NAME_LENGTH))
    #: A discoverable credential: it can log in by itself, without a password.
    is_passkey: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TotpAuthenticator(Base):
    """An authenticator app. Until ``confirmed_at`` it is an enrolment in
    progress and counts for nothing. The secret is stored encrypted
    (security/totp.py), never in clear."""

    __tablename__ = "totp_authenticators"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The last 30-second step accepted: that one and every earlier one are refused.
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    """One of ten single-use codes, argon2id-hashed."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebAuthnChallenge(Base):
    """A challenge handed to a browser: single-use, five minutes. Any process
    may finish a ceremony another began: it finds the row by the SHA-256 of
    the challenge the browser signed."""

    __tablename__ = "webauthn_challenges"
    __table_args__ = (
        CheckConstraint("purpose IN ('register', 'second-factor', 'passkey', 'sudo')", name="purpose"),
        Index("ix_webauthn_challenges_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    #: Whose ceremony it is (None: a passkey login, the user yet unknown).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                nullable=True)
    #: The login session a registration or a sudo belongs to.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), nullable=True)
    #: The pending login a second-factor assertion finishes.
    pending_login_id: Mapped[int | None] = mapped_column(
        ForeignKey("pending_logins.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PendingLogin(Base):
    """A right password of an account with a second factor: five minutes to
    give the second factor. The cookie carries a random secret, this row its
    SHA-256; it authenticates nothing (no identity source reads it)."""

    __tablename__ = "pending_logins"
    __table_args__ = (Index("ix_pending_logins_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
