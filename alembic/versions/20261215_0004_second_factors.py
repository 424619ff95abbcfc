"""Second factors: WebAuthn credentials, TOTP, recovery codes, challenges,
pending logins; users.mfa_enabled and projects.require_mfa (DESIGN section 14).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-15
"""
import sqlalchemy as sa
from alembic import op

import dragonhoard.models.meta

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = dragonhoard.models.meta.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("mfa_enabled", sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    op.add_column("projects", sa.Column("require_mfa", sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.create_table(
        "webauthn_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_passkey", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_webauthn_credentials_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_webauthn_credentials_credential_id")),
    )
    op.create_index("ix_webauthn_credentials_user_id", "webauthn_credentials", ["user_id"],
                    unique=False)
    op.create_table(
        "totp_authenticators",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_totp_authenticators_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_authenticators")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "pending_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_pending_logins_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_logins")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_pending_logins_secret_hash")),
    )
    op.create_index("ix_pending_logins_user_id", "pending_logins", ["user_id"], unique=False)
    op.create_table(
        "webauthn_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("pending_login_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.CheckConstraint("purpose IN ('register', 'second-factor', 'passkey', 'sudo')",
                           name=op.f("ck_webauthn_challenges_purpose")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_webauthn_challenges_user_id_users")),
        sa.ForeignKeyConstraint(["session_id"], ["login_sessions.id"], ondelete="CASCADE",
                                name=op.f("fk_webauthn_challenges_session_id_login_sessions")),
        sa.ForeignKeyConstraint(["pending_login_id"], ["pending_logins.id"], ondelete="CASCADE",
                                name=op.f("fk_webauthn_challenges_pending_login_id_pending_logins")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_challenges")),
        sa.UniqueConstraint("challenge_hash", name=op.f("uq_webauthn_challenges_challenge_hash")),
    )
    op.create_index("ix_webauthn_challenges_expires_at", "webauthn_challenges", ["expires_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_webauthn_challenges_expires_at", table_name="webauthn_challenges")
    op.drop_table("webauthn_challenges")
    op.drop_index("ix_pending_logins_user_id", table_name="pending_logins")
    op.drop_table("pending_logins")
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("totp_authenticators")
    op.drop_index("ix_webauthn_credentials_user_id", table_name="webauthn_credentials")
    op.drop_table("webauthn_credentials")
    op.drop_column("projects", "require_mfa")
    op.drop_column("users", "mfa_enabled")
