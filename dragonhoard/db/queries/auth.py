"""Authentication: one statement per request, the credential joined with its user."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from ..statements import SQLStatement


class TokenRow(NamedTuple):
    id: int
    owner_id: int
    name: str
    scopes: str
    is_restricted: bool
    allowed_networks: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    username: str
    email: str
    is_admin: bool
    is_active: bool
    user_created_at: datetime
    mfa_enabled: bool
    #: An OAuth access token's app (None for a personal token).
    app_id: int | None
    app_name: str | None


class SessionRow(NamedTuple):
    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    sudo_until: datetime | None
    revoked_at: datetime | None
    username: str
    email: str
    is_admin: bool
    is_active: bool
    password_changed_at: datetime
    user_created_at: datetime
    mfa_enabled: bool


TOKEN_BY_HASH = SQLStatement(
    """
    SELECT t.id, t.owner_id, t.name, t.scopes, t.is_restricted, t.allowed_networks,
           t.expires_at, t.revoked_at, t.last_used_at,
           u.username, u.email, u.is_admin, u.is_active, u.created_at, u.mfa_enabled,
           a.id, a.name
    FROM api_tokens t JOIN users u ON u.id = t.owner_id
    LEFT JOIN oauth_grants g ON g.id = t.grant_id
    LEFT JOIN oauth_apps a ON a.id = g.app_id
    WHERE t.token_hash = :token_hash
    """,
    TokenRow,
)

SESSION_BY_HASH = SQLStatement(
    """
    SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.sudo_until,
           s.revoked_at, u.username, u.email, u.is_admin, u.is_active, u.password_changed_at,
           u.created_at, u.mfa_enabled
    FROM login_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.secret_hash = :secret_hash
    """,
    SessionRow,
)
