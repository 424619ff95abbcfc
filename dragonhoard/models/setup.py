"""``config.include``: one engine per app, and the request's session factories."""
from __future__ import annotations

from sqlalchemy import event

from . import get_engine, get_session_factory, get_tm_session_factory
from .hot import dialect_for
from .outage import OutageLog


def includeme(config) -> None:
    settings = config.get_settings()
    registry = config.registry
    ping = registry.dh_settings.db_ping_idle_seconds
    engine = get_engine(settings, ping_idle_seconds=ping)
    registry.dh_engine = engine
    registry.dh_session_factory = get_tm_session_factory(engine)
    # Safe methods read without BEGIN/COMMIT (see Request.db_cursor), on a
    # pool of connections kept in autocommit mode. SQLite's driver begins a
    # transaction only before a write, so there reads share the one pool.
    if engine.dialect.name == "sqlite":
        read_engine = engine
    else:
        read_engine = get_engine(settings, ping_idle_seconds=ping, isolation_level="AUTOCOMMIT")
    registry.dh_read_engine = read_engine
    registry.dh_read_session_factory = get_session_factory(read_engine)
    registry.dh_dialect = dialect_for(engine)
    registry.dh_outage = outage = OutageLog()
    for each in {engine, read_engine}:
        event.listen(each, "connect", outage.connected)
