"""OAuth apps, grants, codes, refresh tokens, device codes; api_tokens.grant_id
for OAuth access tokens (DESIGN section 15).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-16
"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

import dragonhoard.models.meta

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = dragonhoard.models.meta.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{column}_{referred}"))


@contextmanager
def _sqlite_foreign_keys_off():
    """SQLite ignores the pragma inside a transaction: the driver has opened
    none yet (it opens one before the first INSERT, UPDATE or DELETE)."""
    driver = op.get_bind().connection.driver_connection
    if driver.in_transaction:
        driver.commit()
    op.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if driver.in_transaction:
            driver.commit()
        op.execute("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    op.create_table(
        "oauth_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("homepage", sa.String(length=500), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("secret_rotated_at", UTC, nullable=True),
        _fk("oauth_apps", "owner_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_apps")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_apps_client_id")),
    )
    op.create_index("ix_oauth_apps_owner_id", "oauth_apps", ["owner_id"])
    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("is_restricted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_used_at", UTC, nullable=True),
        _fk("oauth_grants", "app_id", "oauth_apps.id"),
        _fk("oauth_grants", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_grants")),
        sa.UniqueConstraint("user_id", "app_id", name=op.f("uq_oauth_grants_user_id")),
    )
    op.create_index("ix_oauth_grants_app_id", "oauth_grants", ["app_id"])
    op.create_table(
        "oauth_grant_projects",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        _fk("oauth_grant_projects", "grant_id", "oauth_grants.id"),
        _fk("oauth_grant_projects", "project_id", "projects.id"),
        sa.PrimaryKeyConstraint("grant_id", "project_id", name=op.f("pk_oauth_grant_projects")),
    )
    op.create_index("ix_oauth_grant_projects_project_id", "oauth_grant_projects", ["project_id"])
    op.create_table(
        "oauth_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        _fk("oauth_codes", "grant_id", "oauth_grants.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_codes_code_hash")),
    )
    op.create_index("ix_oauth_codes_grant_id", "oauth_codes", ["grant_id"])
    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.Column("replay_answer", sa.Text(), nullable=True),
        _fk("oauth_refresh_tokens", "grant_id", "oauth_grants.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_refresh_tokens_token_hash")),
    )
    op.create_index("ix_oauth_refresh_tokens_grant_id", "oauth_refresh_tokens", ["grant_id"])
    op.create_table(
        "oauth_device_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("device_code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_code_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", UTC, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        _fk("oauth_device_codes", "app_id", "oauth_apps.id"),
        _fk("oauth_device_codes", "grant_id", "oauth_grants.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_device_codes")),
        sa.UniqueConstraint("device_code_hash", name=op.f("uq_oauth_device_codes_device_code_hash")),
        sa.UniqueConstraint("user_code_hash", name=op.f("uq_oauth_device_codes_user_code_hash")),
    )
    op.create_index("ix_oauth_device_codes_app_id", "oauth_device_codes", ["app_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a foreign key by copying the table: with foreign keys
        # on, dropping the old copy would cascade to api_token_projects.
        with _sqlite_foreign_keys_off():
            with op.batch_alter_table("api_tokens") as batch:
                batch.add_column(sa.Column("grant_id", sa.Integer(), nullable=True))
                batch.create_foreign_key("fk_api_tokens_grant_id_oauth_grants", "oauth_grants",
                                         ["grant_id"], ["id"], ondelete="CASCADE")
    else:
        op.add_column("api_tokens", sa.Column("grant_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_api_tokens_grant_id_oauth_grants", "api_tokens",
                              "oauth_grants", ["grant_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_api_tokens_grant_id", "api_tokens", ["grant_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_grant_id", table_name="api_tokens")
    # OAuth access tokens go with their grants.
    op.execute("DELETE FROM api_tokens WHERE grant_id IS NOT NULL")
    if op.get_bind().dialect.name == "sqlite":
        with _sqlite_foreign_keys_off():
            with op.batch_alter_table("api_tokens") as batch:
                batch.drop_constraint("fk_api_tokens_grant_id_oauth_grants", type_="foreignkey")
                batch.drop_column("grant_id")
    else:
        op.drop_constraint("fk_api_tokens_grant_id_oauth_grants", "api_tokens", type_="foreignkey")
        op.drop_column("api_tokens", "grant_id")
    for table in ("oauth_device_codes", "oauth_refresh_tokens", "oauth_codes",
                  "oauth_grant_projects", "oauth_grants", "oauth_apps"):
        op.drop_table(table)
