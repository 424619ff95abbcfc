"""``Authorization: Bearer <token>``: a personal access token or an OAuth
access token, found by the same statement (RFC 6750, DESIGN sections 6 and 15)."""
from __future__ import annotations

import re
from datetime import timedelta

from ... import clock
from .. import tokens
from ..identity import Identity, Refusal, TokenCredential
from ..networks import address_allowed

# RFC 6750 section 2.1: b64token.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

MALFORMED = Refusal(400, "invalid_request", "The Authorization header must be: Bearer <token>.")
MISTYPED = Refusal(401, "invalid_token", "The token is malformed or mistyped.")
UNKNOWN = Refusal(401, "invalid_token", "The token is unknown.")
REVOKED = Refusal(401, "invalid_token", "The token has been revoked.")
EXPIRED = Refusal(401, "invalid_token", "The token has expired.")
DEACTIVATED = Refusal(401, "invalid_token", "The token owner's account is deactivated.")
NETWORK = Refusal(401, "invalid_token", "The token is not allowed from this address.")

TOUCH_INTERVAL = timedelta(seconds=60)


class BearerSource:
    name = "bearer"
    reads = "header"

    def __init__(self, settings) -> None:
        self.settings = settings

    def identify(self, request) -> Identity | Refusal | None:
        header = request.environ["HTTP_AUTHORIZATION"]
        scheme = header.split(None, 1)[0]
        if scheme.lower() != "bearer":
            return None
        # Exactly "Bearer", one space, one b64token (RFC 6750 section 2.1).
        credential = header[len(scheme) + 1:]
        if header[len(scheme):len(scheme) + 1] != " " or not B64TOKEN.fullmatch(credential):
            return MALFORMED
        if not tokens.is_well_formed(credential, tokens.BEARER_PREFIXES):
            return MISTYPED
        row = request.hot.token(tokens.hash_token(credential))
        if row is None:
            return UNKNOWN
        now = clock.now()
        expires_at = row.expires_at
        if row.revoked_at is not None or (expires_at is not None and expires_at <= now):
            request.bookkeeping.token_refused(row.id, row.owner_id, expired=row.revoked_at is None)
            return REVOKED if row.revoked_at is not None else EXPIRED
        if not row.is_active:
            return DEACTIVATED
        if row.allowed_networks and not address_allowed(request.client_addr, row.allowed_networks):
            return NETWORK
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
            request.bookkeeping.touch_token(row.id)
        return Identity(
            user_id=row.owner_id,
            username=row.username,
            email=row.email,
            is_admin=row.is_admin,
            created_at=row.user_created_at,
            has_mfa=row.mfa_enabled,
            token=TokenCredential(
                id=row.id,
                name=row.name,
                scopes=frozenset(row.scopes.split()),
                is_restricted=row.is_restricted,
                expires_at=expires_at,
                app_id=row.app_id,
                app_name=row.app_name,
            ),
        )
