"""Every ``dragonhoard.*`` setting, parsed and checked once, at start-up.

The rest of the code reads ``request.settings`` (a frozen
:class:`Settings`), never the raw ini strings.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: The secret development.ini ships with. Production refuses to start with it.
DEVELOPMENT_SECRET = "dragonhoard-development-secret-do-not-use-in-production"
MIN_SECRET_LENGTH = 32
KNOWN_AUTH_SOURCES = ("bearer", "session")
#: What sits between the app and PostgreSQL: ``pgbouncer`` (transaction mode)
#: turns off server-side prepared statements (models.get_engine).
KNOWN_POOLERS = ("none", "pgbouncer")
#: Who must have a second factor (DESIGN section 14): nobody, token makers, everyone.
KNOWN_MFA_REQUIREMENTS = ("none", "tokens", "all")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    environment: str
    secret: str
    auth_sources: tuple[str, ...]
    cookie_secure: bool
    session_idle_seconds: int
    session_max_seconds: int
    sudo_seconds: int
    throttle_window_seconds: int
    throttle_account_address_limit: int
    throttle_account_limit: int
    throttle_address_limit: int
    leak_reports_per_hour: int
    token_max_lifetime_days: int | None
    max_body_bytes: int
    argon2_time_cost: int
    argon2_memory_cost: int
    argon2_parallelism: int
    password_min_length: int
    password_max_length: int
    password_min_score: int
    db_ping_idle_seconds: int
    db_pooler: str = "none"
    mfa_required: str = "none"
    #: The WebAuthn relying party: its id (a host name) and the origins ceremonies run on.
    webauthn_rp_id: str = "localhost"
    webauthn_origins: tuple[str, ...] = ("http://localhost:6543",)
    #: ``dragonhoard.oauth.access_seconds``: an OAuth access token's lifetime.
    oauth_access_seconds: int = 3600

    @property
    def session_cookie_name(self) -> str:
        # __Host- makes the browser insist on Secure, Path=/ and no Domain.
        return "__Host-dh_session" if self.cookie_secure else "dh_session"

    @property
    def state_cookie_name(self) -> str:
        return "__Host-dh_state" if self.cookie_secure else "dh_state"

    @property
    def pending_cookie_name(self) -> str:
        """A password was right, a second factor is still to come (security/pending.py)."""
        return "__Host-dh_pending" if self.cookie_secure else "dh_pending"


def _int(raw: Mapping[str, Any], key: str, default: int, minimum: int = 0) -> int:
    value = raw.get(key)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{key} must be at least {minimum}, not {number}")
    return number


def _bool(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None or str(value).strip() == "":
        return default
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ConfigError(f"{key} must be true or false, not {value!r}")


def apply_environment(raw: dict[str, Any], environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Overlay the environment variables that override ini settings."""
    settings = dict(raw)
    url = environ.get("DRAGONHOARD_DATABASE_URL", "").strip()
    if url:
        settings["sqlalchemy.url"] = url
    secret = environ.get("DRAGONHOARD_SECRET")
    if secret is not None:
        settings["dragonhoard.secret"] = secret
    return settings


def load_settings(raw: Mapping[str, Any]) -> Settings:
    """Parse and check the settings (after :func:`apply_environment`)."""
    environment = str(raw.get("dragonhoard.environment", "development")).strip()
    if environment not in ("development", "production", "test"):
        raise ConfigError(
            f"dragonhoard.environment must be development, production or test, not {environment!r}"
        )
    production = environment == "production"

    if not str(raw.get("sqlalchemy.url", "")).strip():
        raise ConfigError(
            "no database: set DRAGONHOARD_DATABASE_URL"
            + ("" if production else " or sqlalchemy.url in the ini file")
        )

    secret = str(raw.get("dragonhoard.secret", "")).strip()
    if production:
        if not secret:
            raise ConfigError("DRAGONHOARD_SECRET is not set; production needs its own secret")
        if secret == DEVELOPMENT_SECRET:
            raise ConfigError("DRAGONHOARD_SECRET is the development secret; set a secret of your own")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"the secret (DRAGONHOARD_SECRET) must be at least {MIN_SECRET_LENGTH} characters")

    sources = tuple(str(raw.get("dragonhoard.auth_sources", "bearer session")).split())
    unknown = [s for s in sources if s not in KNOWN_AUTH_SOURCES]
    if unknown or not sources or len(set(sources)) != len(sources):
        raise ConfigError(
            f"dragonhoard.auth_sources must list some of {' '.join(KNOWN_AUTH_SOURCES)} once each,"
            f" not {' '.join(sources)!r}"
        )

    pooler = str(raw.get("dragonhoard.db.pooler") or "none").strip() or "none"
    if pooler not in KNOWN_POOLERS:
        raise ConfigError(f"dragonhoard.db.pooler must be one of {', '.join(KNOWN_POOLERS)}, not {pooler!r}")
    if pooler != "none" and not str(raw["sqlalchemy.url"]).strip().startswith("postgresql"):
        raise ConfigError(f"dragonhoard.db.pooler = {pooler} needs a PostgreSQL database URL")

    mfa_required = str(raw.get("dragonhoard.mfa.required") or "none").strip() or "none"
    if mfa_required not in KNOWN_MFA_REQUIREMENTS:
        raise ConfigError(f"dragonhoard.mfa.required must be one of {', '.join(KNOWN_MFA_REQUIREMENTS)},"
                          f" not {mfa_required!r}")
    rp_id, origins = _webauthn(raw, production)

    max_lifetime = _int(raw, "dragonhoard.tokens.max_lifetime_days", 0)
    settings = Settings(
        environment=environment,
        secret=secret,
        auth_sources=sources,
        cookie_secure=_bool(raw, "dragonhoard.cookie_secure", production),
        session_idle_seconds=_int(raw, "dragonhoard.session_idle_seconds", 43200, 60),
        session_max_seconds=_int(raw, "dragonhoard.session_max_seconds", 1209600, 60),
        sudo_seconds=_int(raw, "dragonhoard.sudo_seconds", 900, 1),
        throttle_window_seconds=_int(raw, "dragonhoard.throttle.window_seconds", 900, 1),
        throttle_account_address_limit=_int(raw, "dragonhoard.throttle.account_address_limit", 10, 1),
        throttle_account_limit=_int(raw, "dragonhoard.throttle.account_limit", 50, 1),
        throttle_address_limit=_int(raw, "dragonhoard.throttle.address_limit", 100, 1),
        leak_reports_per_hour=_int(raw, "dragonhoard.leak_reports_per_hour", 60, 1),
        token_max_lifetime_days=max_lifetime or None,
        max_body_bytes=_int(raw, "dragonhoard.max_body_bytes", 1048576, 1024),
        argon2_time_cost=_int(raw, "dragonhoard.argon2.time_cost", 3, 1),
        argon2_memory_cost=_int(raw, "dragonhoard.argon2.memory_cost", 65536, 8),
        argon2_parallelism=_int(raw, "dragonhoard.argon2.parallelism", 4, 1),
        password_min_length=_int(raw, "dragonhoard.password.min_length", 10, 1),
        password_max_length=_int(raw, "dragonhoard.password.max_length", 128, 8),
        password_min_score=_int(raw, "dragonhoard.password.min_score", 3, 0),
        db_ping_idle_seconds=_int(raw, "dragonhoard.db_ping_idle_seconds", 5, 0),
        db_pooler=pooler,
        mfa_required=mfa_required,
        webauthn_rp_id=rp_id,
        webauthn_origins=origins,
        oauth_access_seconds=_int(raw, "dragonhoard.oauth.access_seconds", 3600, 60),
    )
    if production and not settings.cookie_secure:
        raise ConfigError("dragonhoard.cookie_secure cannot be false in production")
    if settings.session_idle_seconds > settings.session_max_seconds:
        raise ConfigError("dragonhoard.session_idle_seconds cannot exceed dragonhoard.session_max_seconds")
    if settings.password_min_length > settings.password_max_length:
        raise ConfigError("dragonhoard.password.min_length cannot exceed dragonhoard.password.max_length")
    if settings.argon2_memory_cost < 8 * settings.argon2_parallelism:
        raise ConfigError("dragonhoard.argon2.memory_cost must be at least 8 x parallelism (KiB)")
    return settings


def _webauthn(raw: Mapping[str, Any], production: bool) -> tuple[str, tuple[str, ...]]:
    """``dragonhoard.webauthn.rp_id`` and ``.origin`` (one or more, space-separated).

    Browsers refuse WebAuthn on an IP address and on plain HTTP other than
    ``localhost``; every origin's host must be the relying-party id or end
    with ``.`` + it, or no ceremony could ever succeed.
    """
    rp_id = str(raw.get("dragonhoard.webauthn.rp_id") or "localhost").strip().lower()
    origins = tuple(str(raw.get("dragonhoard.webauthn.origin") or "http://localhost:6543").split())
    if not rp_id or "/" in rp_id or ":" in rp_id or rp_id.replace(".", "").isdigit():
        raise ConfigError(f"dragonhoard.webauthn.rp_id must be a host name, not {rp_id!r}")
    for origin in origins:
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 (a bad port raises)
        except ValueError:
            raise ConfigError(f"dragonhoard.webauthn.origin {origin!r} is not a URL") from None
        host = (parts.hostname or "").lower()
        if (parts.scheme not in ("https", "http") or not host or parts.path not in ("", "/")
                or parts.query or parts.fragment or parts.username or parts.password):
            raise ConfigError(f"dragonhoard.webauthn.origin {origin!r} must be scheme://host[:port]")
        if parts.scheme == "http" and (host != "localhost" or production):
            raise ConfigError(f"dragonhoard.webauthn.origin {origin!r} must use https")
        if host != rp_id and not host.endswith("." + rp_id):
            raise ConfigError(f"dragonhoard.webauthn.origin {origin!r} is not on the relying party"
                              f" {rp_id!r}")
    return rp_id, tuple(origin.rstrip("/") for origin in origins)
