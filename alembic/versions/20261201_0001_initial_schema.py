"""Initial schema: users, projects and memberships, treasures, tokens, sessions, audit log, throttle counters.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dragonhoard.models.meta

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('slug', name=op.f('uq_projects_slug'))
    )
    op.create_table('throttle_counters',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('window_start', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counters'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_canonical', sa.String(length=254), nullable=False),
    sa.Column('username', sa.String(length=39), nullable=False),
    sa.Column('username_canonical', sa.String(length=39), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('password_changed_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_admin', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email_canonical', name=op.f('uq_users_email_canonical')),
    sa.UniqueConstraint('username_canonical', name=op.f('uq_users_username_canonical'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('display_prefix', sa.String(length=12), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('is_restricted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('allowed_networks', sa.String(length=2000), nullable=False),
    sa.Column('expires_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_ip', sa.String(length=45), nullable=True),
    sa.Column('last_refused_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rotated_from', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_api_tokens_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rotated_from'], ['api_tokens.id'], name=op.f('fk_api_tokens_rotated_from_api_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index('ix_api_tokens_owner_id', 'api_tokens', ['owner_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_user_created', 'audit_events', ['user_id', 'created_at', 'id'], unique=False)

    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sudo_until', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=False),
    sa.Column('revoked_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_login_sessions_secret_hash'))
    )
    op.create_index('ix_login_sessions_user_id', 'login_sessions', ['user_id'], unique=False)

    op.create_table('memberships',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'editor', 'owner')", name=op.f('ck_memberships_role')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_memberships_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id', name=op.f('pk_memberships'))
    )
    op.create_index('ix_memberships_user_id', 'memberships', ['user_id'], unique=False)

    op.create_table('treasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('cool_factor', sa.SmallInteger(), nullable=False),
    sa.Column('plundered_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cool_factor BETWEEN 0 AND 10', name=op.f('ck_treasures_cool_factor_range')),
    sa.CheckConstraint('length(name) BETWEEN 2 AND 50', name=op.f('ck_treasures_name_length')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_treasures_value_not_negative')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_treasures_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_treasures_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treasures'))
    )
    op.create_index('ix_treasures_owner_created', 'treasures', ['owner_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_treasures_project_created', 'treasures', ['project_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_treasures_published_created', 'treasures', ['is_published', 'created_at', 'id'], unique=False)

    op.create_table('api_token_projects',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_api_token_projects_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_api_token_projects_token_id_api_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', 'project_id', name=op.f('pk_api_token_projects'))
    )
    op.create_index('ix_api_token_projects_project_id', 'api_token_projects', ['project_id'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_api_token_projects_project_id', table_name='api_token_projects')

    op.drop_table('api_token_projects')
    op.drop_index('ix_treasures_published_created', table_name='treasures')
    op.drop_index('ix_treasures_project_created', table_name='treasures')
    op.drop_index('ix_treasures_owner_created', table_name='treasures')

    op.drop_table('treasures')
    op.drop_index('ix_memberships_user_id', table_name='memberships')

    op.drop_table('memberships')
    op.drop_index('ix_login_sessions_user_id', table_name='login_sessions')

    op.drop_table('login_sessions')
    op.drop_index('ix_audit_events_user_created', table_name='audit_events')

    op.drop_table('audit_events')
    op.drop_index('ix_api_tokens_owner_id', table_name='api_tokens')

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('throttle_counters')
    op.drop_table('projects')
