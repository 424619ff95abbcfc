"""Database plumbing: engines, sessions bound to the request's transaction.

Import every model here so that ``Base.metadata`` knows all tables (alembic's
autogenerate and the tests read it).
"""
from __future__ import annotations

from typing import Any

import zope.sqlalchemy
from sqlalchemy import Engine, engine_from_config, event
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from .audit import EVENT_KINDS, AuditEvent
from .login_session import LoginSession
from .meta import Base, metadata
from .project import ROLES, Membership, Project, roles_at_least
from .throttle import ThrottleCounter
from .token import ApiToken, ApiTokenProject
from .treasure import Treasure
from .user import User, canonical_email, canonical_username

__all__ = [
    "EVENT_KINDS",
    "ROLES",
    "ApiToken",
    "ApiTokenProject",
    "AuditEvent",
    "Base",
    "LoginSession",
    "Membership",
    "Project",
    "ThrottleCounter",
    "Treasure",
    "User",
    "canonical_email",
    "canonical_username",
    "get_engine",
    "get_session_factory",
    "get_tm_session",
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


def get_engine(settings: dict[str, Any], prefix: str = "sqlalchemy.") -> Engine:
    """The engine for ``settings[prefix + "url"]`` with dragonhoard's connection setup."""
    url = settings[prefix + "url"]
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # Every session speaks UTC, so timestamps come back in UTC.
        kwargs["connect_args"] = {"options": "-c timezone=UTC", "application_name": "dragonhoard"}
    engine = engine_from_config(settings, prefix, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: the objects a view returns are rendered after
    # pyramid_tm has committed.
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session(session_factory: sessionmaker[Session], transaction_manager, request=None) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession
