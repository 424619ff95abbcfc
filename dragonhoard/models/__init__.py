"""Database plumbing: engines, sessions bound to the request's transaction.

Import every model here so that ``Base.metadata`` knows all tables (alembic's
autogenerate and the tests read it).
"""
from __future__ import annotations

import os
import select
import time
from typing import Any

import zope.sqlalchemy
from sqlalchemy import Engine, engine_from_config, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from .audit import EVENT_KINDS, AuditEvent, EventKind
from .counts import TreasureCounts
from .login_session import LoginSession
from .meta import Base, metadata
from .mfa import (
    PendingLogin,
    RecoveryCode,
    TotpAuthenticator,
    WebAuthnChallenge,
    WebAuthnCredential,
)
from .oauth import (
    OAuthApp,
    OAuthCode,
    OAuthDeviceCode,
    OAuthGrant,
    OAuthGrantProject,
    OAuthRefreshToken,
)
from .project import ROLES, Membership, Project, roles_at_least
from .throttle import ThrottleHit
from .token import ApiToken, ApiTokenProject
from .treasure import Treasure
from .user import User, canonical_email, canonical_username, find_by_email

__all__ = [
    "EVENT_KINDS",
    "EventKind",
    "ROLES",
    "ApiToken",
    "ApiTokenProject",
    "AuditEvent",
    "Base",
    "LoginSession",
    "Membership",
    "OAuthApp",
    "OAuthCode",
    "OAuthDeviceCode",
    "OAuthGrant",
    "OAuthGrantProject",
    "OAuthRefreshToken",
    "PendingLogin",
    "Project",
    "RecoveryCode",
    "ThrottleHit",
    "TotpAuthenticator",
    "Treasure",
    "TreasureCounts",
    "User",
    "WebAuthnChallenge",
    "WebAuthnCredential",
    "canonical_email",
    "canonical_username",
    "find_by_email",
    "get_engine",
    "get_session_factory",
    "get_tm_session_factory",
    "metadata",
    "roles_at_least",
]

configure_mappers()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Cascades are declared in the schema; SQLite honours them only when asked.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers never wait for the writer, so a request can read while the
    # bookkeeping connection writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class LivenessCheck:
    """Connections are checked before use, cheaply (docs/architecture.md, "Speed").

    SQLAlchemy's ``pool_pre_ping`` costs a round trip on every checkout, that
    is on every request. Instead: a connection that sat in the pool longer
    than ``idle_seconds`` is pinged; a busier one is checked for a closed or
    broken socket without a round trip (a server that went away has sent
    its goodbye, or closed the socket). Either failure makes the pool open a
    fresh connection, so the same process serves again once the database is
    back. A failure neither check sees is answered 503 once, and SQLAlchemy
    then recycles the whole pool.
    """

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds

    def checkin(self, _dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def checkout(self, dbapi_connection, record, _proxy) -> None:
        idle = time.monotonic() - record.info.get("checked_in_at", time.monotonic())
        try:
            if dbapi_connection.broken or dbapi_connection.closed:
                raise exc.DisconnectionError("connection closed")
            if idle > self.idle_seconds:
                dbapi_connection.execute("SELECT 1").close()
                return
            readable, _w, _x = select.select([dbapi_connection.pgconn.socket], [], [], 0)
        except exc.DisconnectionError:
            raise
        except Exception as error:
            raise exc.DisconnectionError(str(error)) from error
        if readable:
            # Nothing is owed to an idle connection: what arrived is the
            # server's goodbye (or the end of the stream).
            raise exc.DisconnectionError("the server closed the connection")


#: libpq's wait for a new connection, unless the URL sets ``connect_timeout``:
#: a database host that drops packets answers 503 after this, not minutes later.
CONNECT_TIMEOUT_SECONDS = 5


def uses_pgbouncer(settings: dict[str, Any]) -> bool:
    """``dragonhoard.db.pooler = pgbouncer`` (settings.py checks the value)."""
    return str(settings.get("dragonhoard.db.pooler") or "").strip() == "pgbouncer"


def _postgres_connect_args(settings: dict[str, Any], url: str) -> dict[str, Any]:
    """What every PostgreSQL connection is opened with.

    Nothing that lives in the server's session: a transaction-mode pooler
    (PgBouncer) hands each transaction whichever server connection is free,
    and refuses the libpq ``options`` startup parameter. Timestamps are read
    as UTC whatever the server's TimeZone (hot.PostgresDialect.timestamp,
    meta.UTCDateTime), and the read pool's touches wait for the WAL flush
    like any commit (bench/README.md measures what that costs).
    """
    args: dict[str, Any] = {"application_name": "dragonhoard"}
    if "connect_timeout" not in make_url(url).query and "PGCONNECT_TIMEOUT" not in os.environ:
        args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if uses_pgbouncer(settings):
        # psycopg prepares a statement after a few runs; the pooler may run
        # the next transaction on a server connection that never saw it.
        args["prepare_threshold"] = None
    return args


def get_engine(settings: dict[str, Any], prefix: str = "sqlalchemy.", *,
               ping_idle_seconds: float = 5, **kwargs: Any) -> Engine:
    """The engine for ``settings[prefix + "url"]`` with dragonhoard's connection setup.

    ``ping_idle_seconds``: see :class:`LivenessCheck` (``dragonhoard.db_ping_idle_seconds``);
    ``dragonhoard.db.pooler = pgbouncer`` in ``settings`` turns off prepared statements.
    """
    url = settings[prefix + "url"]
    if url.startswith("postgresql"):
        kwargs["connect_args"] = _postgres_connect_args(settings, url)
        if kwargs.get("isolation_level") == "AUTOCOMMIT":
            # Nothing to roll back on return. A rollback on a connection the
            # server (or PgBouncer) dropped would only log a traceback; the
            # next checkout finds it broken and opens a new one.
            kwargs.setdefault("pool_reset_on_return", None)
    # Statement parameters (password hashes, token hashes, emails) never reach
    # a log line or an exception's text.
    kwargs.setdefault("hide_parameters", True)
    engine = engine_from_config(settings, prefix, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        check = LivenessCheck(ping_idle_seconds)
        event.listen(engine, "checkout", check.checkout)
        event.listen(engine, "checkin", check.checkin)
    return engine


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Plain sessions, committed by whoever uses them (command line, tests)."""
    # expire_on_commit=False: objects stay readable after their commit.
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that join the thread's transaction (pyramid_tm's ``request.tm``)
    when first used, and are committed or aborted with it.

    Registered once on the factory rather than on every session: each
    registration adds seven event listeners, a cost on every request.
    """
    factory = get_session_factory(engine)
    zope.sqlalchemy.register(factory)
    return factory
