"""What the policy knows about a caller, and how a credential is refused."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .permissions import ADMIN_SCOPE, ALL_SCOPES, USER_SCOPES


@dataclass(slots=True)
class TokenCredential:
    """The bearer token a request came with (the columns the policy needs)."""

    id: int
    name: str
    scopes: frozenset[str]
    is_restricted: bool
    expires_at: datetime | None
    #: The app an OAuth access token was issued to (None: a personal token).
    app_id: int | None = None
    app_name: str | None = None


@dataclass(slots=True)
class SessionCredential:
    """The login session a request came with."""

    id: int
    created_at: datetime
    expires_at: datetime
    sudo_until: datetime | None


@dataclass(slots=True)
class Identity:
    """The caller: a user, and the credential that proved it.

    Built from one row (credential joined with user) on every request; never
    cached across requests, so a role change, a revocation or a deactivation
    applies to the very next request.
    """

    user_id: int
    username: str
    email: str
    is_admin: bool
    created_at: datetime
    token: TokenCredential | None = None
    session: SessionCredential | None = None
    #: The user has a second factor (``users.mfa_enabled``, read with the credential).
    has_mfa: bool = False

    @property
    def id(self) -> int:
        return self.user_id

    @property
    def via(self) -> str:
        """``session``, ``token`` (personal access token) or ``oauth``."""
        if self.token is None:
            return "session"
        return "token" if self.token.app_id is None else "oauth"

    @property
    def scopes(self) -> frozenset[str]:
        """A token's scopes; a session holds every scope (``admin`` for admins only)."""
        if self.token is not None:
            return self.token.scopes
        return ALL_SCOPES if self.is_admin else USER_SCOPES

    @property
    def admin_rights(self) -> bool:
        """Admin rights in force: an admin, and through a token only with ``admin``."""
        return self.is_admin and ADMIN_SCOPE in self.scopes

    @property
    def is_restricted(self) -> bool:
        return self.token is not None and self.token.is_restricted


@dataclass(frozen=True, slots=True)
class Refusal:
    """A credential that was presented and refused (DESIGN section 6).

    ``status`` 400 or 401; ``error`` the RFC 6750 error code, or None for a
    scheme nobody here understands. Sources return refusals as values; the
    policy turns them into answers, never into a 500.
    """

    status: int
    error: str | None
    description: str

    @property
    def challenge(self) -> str:
        header = 'Bearer realm="dragonhoard"'
        if self.error:
            header += f', error="{self.error}"'
            if self.description:
                header += f', error_description="{self.description}"'
        return header


UNSUPPORTED_SCHEME = Refusal(401, None, "This authorization scheme is not accepted here.")
