"""``Authorization: Bearer <personal access token>`` (RFC 6750, DESIGN section 6)."""
from __future__ import annotations

import re
from datetime import timedelta

from ... import clock
from ...models.hot import HotStatement
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

#: Authentication: one statement, the token joined with its owner.
TOKEN_LOOKUP = HotStatement(
    """
    SELECT t.id, t.owner_id, t.name, t.scopes, t.is_restricted, t.allowed_networks,
           t.expires_at, t.revoked_at, t.last_used_at,
           u.username, u.email, u.is_admin, u.is_active, u.created_at
    FROM api_tokens t JOIN users u ON u.id = t.owner_id
    WHERE t.token_hash = :token_hash
    """
)

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
        if not tokens.is_well_formed(credential):
            return MISTYPED
        dialect = request.registry.dh_dialect
        row = TOKEN_LOOKUP.one(
            request.db_cursor, dialect, {"token_hash": tokens.hash_token(credential)}
        )
        if row is None:
            return UNKNOWN
        (token_id, owner_id, name, scopes, is_restricted, networks,
         expires_at, revoked_at, last_used_at,
         username, email, is_admin, is_active, created_at) = row  # fmt: skip
        now = clock.now()
        expires_at = dialect.timestamp(expires_at)
        if revoked_at is not None or (expires_at is not None and expires_at <= now):
            request.bookkeeping.token_refused(token_id, owner_id, expired=revoked_at is None)
            return REVOKED if revoked_at is not None else EXPIRED
        if not is_active:
            return DEACTIVATED
        if networks and not address_allowed(request.client_addr, networks):
            return NETWORK
        last_used_at = dialect.timestamp(last_used_at)
        if last_used_at is None or now - last_used_at >= TOUCH_INTERVAL:
            request.bookkeeping.touch_token(token_id)
        return Identity(
            user_id=owner_id,
            username=username,
            email=email,
            is_admin=bool(is_admin),
            created_at=dialect.timestamp(created_at),
            token=TokenCredential(
                id=token_id,
                name=name,
                scopes=frozenset(scopes.split()),
                is_restricted=bool(is_restricted),
                expires_at=expires_at,
            ),
        )
