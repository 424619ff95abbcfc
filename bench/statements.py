"""Counting the statements an app sends to its database, BEGIN and COMMIT included.

Used by the test suite (query budgets) and by the benchmark (statements per
request of each case).
"""
from __future__ import annotations

from pathlib import Path

from psycopg import pq
from sqlalchemy import event

from dragonhoard import application


class StatementLog:
    """The statements an app sent to its database, BEGIN and COMMIT included.

    PostgreSQL: libpq's protocol trace of every connection the app checks out
    (from its write and its read pools), counting the simple-protocol
    ``Query`` messages (BEGIN, COMMIT, ...) and the extended-protocol
    ``Execute`` messages (one per statement run); a one-off ``Parse`` when
    psycopg prepares a statement is not a statement. SQLite: sqlite3's trace
    callback, which also sees the BEGIN and COMMIT it issues.
    """

    def __init__(self, registry, tmp_path: Path) -> None:
        app = application.of(registry)
        self.engines = list({id(e): e for e in (app.engine, app.read_engine)}.values())
        self.sqlite = app.engine.dialect.name == "sqlite"
        self.path = tmp_path / "pg-trace.log"
        self.statements: list[str] = []
        self._files = []

    def _checkout(self, dbapi_connection, _record, _proxy) -> None:
        if self.sqlite:
            dbapi_connection.set_trace_callback(self.statements.append)
            return
        handle = open(self.path, "a")  # noqa: SIM115 - closed on leaving the block
        self._files.append(handle)
        pgconn = dbapi_connection.pgconn
        pgconn.trace(handle.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _checkin(self, dbapi_connection, _record) -> None:
        if dbapi_connection is None:
            return
        if self.sqlite:
            dbapi_connection.set_trace_callback(None)
        else:
            dbapi_connection.pgconn.untrace()

    def __enter__(self) -> StatementLog:
        for engine in self.engines:
            event.listen(engine, "checkout", self._checkout)
            event.listen(engine, "checkin", self._checkin)
        return self

    def __exit__(self, *exc) -> None:
        for engine in self.engines:
            event.remove(engine, "checkout", self._checkout)
            event.remove(engine, "checkin", self._checkin)
        for handle in self._files:
            handle.close()
        if not self.sqlite and self.path.exists():
            for line in self.path.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and parts[0] == "F" and parts[2] in ("Query", "Execute"):
                    self.statements.append(line)
            self.path.unlink()

    @property
    def count(self) -> int:
        return len(self.statements)
