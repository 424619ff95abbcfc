"""Counting the statements an app sends to its database, BEGIN and COMMIT included.

Used by the test suite (query budgets) and by the benchmark (statements per
request of each case).
"""
from __future__ import annotations

from pathlib import Path

from psycopg import pq
from sqlalchemy import event


class StatementLog:
    """The statements an app sent to its database, BEGIN and COMMIT included.

    PostgreSQL: libpq's protocol trace of every connection the app checks out,
    counting the simple-protocol ``Query`` messages (BEGIN, COMMIT, ...) and
    the extended-protocol ``Execute`` messages (one per statement run). SQLite:
    sqlite3's trace callback, which also sees the BEGIN and COMMIT it issues.
    """

    def __init__(self, engine, tmp_path: Path) -> None:
        self.engine = engine
        self.path = tmp_path / "pg-trace.log"
        self.statements: list[str] = []
        self._traced = []

    def _checkout(self, dbapi_connection, _record, _proxy) -> None:
        if self.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(self.statements.append)
        else:
            pgconn = dbapi_connection.pgconn
            self._file = open(self.path, "a")  # noqa: SIM115 - closed at check-in
            pgconn.trace(self._file.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            self._traced.append(self._file)

    def _checkin(self, dbapi_connection, _record) -> None:
        if dbapi_connection is None:
            return
        if self.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(None)
        else:
            dbapi_connection.pgconn.untrace()

    def __enter__(self):
        event.listen(self.engine, "checkout", self._checkout)
        event.listen(self.engine, "checkin", self._checkin)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "checkin", self._checkin)
        for handle in self._traced:
            handle.close()
        if self.engine.dialect.name != "sqlite" and self.path.exists():
            for line in self.path.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and parts[0] == "F" and parts[2] in ("Query", "Execute"):
                    self.statements.append(line)
            self.path.unlink()

    @property
    def count(self) -> int:
        return len(self.statements)
