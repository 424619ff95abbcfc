"""The one application object: everything a request needs that lives as long
as the app (settings, engines, the policy), typed, in one place.

It is built once in ``main()`` and kept on the Pyramid registry by
:func:`install`; code reaches it through ``request.app`` (request.py) or
:func:`of` for code that holds a registry (tween factories).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import Dialect, dialect_for
from .models import get_engine, get_session_factory, get_tm_session_factory
from .models.outage import OutageLog
from .security.passwords import Passwords
from .security.policy import SecurityPolicy
from .security.sources import SOURCES
from .security.throttle import Throttle
from .settings import Settings


@dataclass(eq=False)
class Application:
    settings: Settings
    #: Writes, the security log and the throttle (transactions).
    engine: Engine
    #: Safe methods' reads and the last-used touches (autocommit on PostgreSQL).
    read_engine: Engine
    #: Sessions that join the request's pyramid_tm transaction.
    session_factory: sessionmaker[Session]
    #: Sessions of safe methods, bound to the request's read connection.
    read_session_factory: sessionmaker[Session]
    dialect: Dialect
    policy: SecurityPolicy
    passwords: Passwords
    throttle: Throttle
    outage: OutageLog
    #: Route name -> the methods its path answers (views/errors.py fills it).
    allowed_methods: dict[str, list[str]] | None = field(default=None)


def build(settings: Settings, raw: dict) -> Application:
    """Engines, pools and the security machinery for ``settings``.

    ``raw`` is the ini file's ``[app:main]`` (the ``sqlalchemy.*`` keys).
    """
    ping = settings.db_ping_idle_seconds
    engine = get_engine(raw, ping_idle_seconds=ping)
    # Safe methods read without BEGIN/COMMIT on a pool of connections kept in
    # autocommit mode. SQLite's driver begins a transaction only before a
    # write, so there reads share the one pool.
    if engine.dialect.name == "sqlite":
        read_engine = engine
    else:
        read_engine = get_engine(raw, ping_idle_seconds=ping, isolation_level="AUTOCOMMIT")
    outage = OutageLog()
    policy = SecurityPolicy([SOURCES[name](settings) for name in settings.auth_sources],
                            mfa_required=settings.mfa_required)
    return Application(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        session_factory=get_tm_session_factory(engine),
        read_session_factory=get_session_factory(read_engine),
        dialect=dialect_for(engine),
        policy=policy,
        passwords=Passwords(settings),
        throttle=Throttle(engine, settings),
        outage=outage,
    )


def install(registry, app: Application) -> None:
    registry.dh_app = app


def of(registry) -> Application:
    return registry.dh_app


def dispose(app: Application) -> None:
    """Close every pooled connection (tests, and a process that ends)."""
    app.engine.dispose()
    app.read_engine.dispose()
