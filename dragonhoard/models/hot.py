"""Hand-written statements on the request's own driver connection.

Authentication and context loading run on every request; going through the
driver directly, rather than SQLAlchemy's Core or ORM, is what keeps a
bearer GET within its budget (docs/architecture.md, "Speed"). Everything
else uses the ORM.

Statements are written once, with ``:name`` parameters; each dialect turns
them into the driver's positional style once (cheaper per call than named
parameters), runs them on a cursor kept with the pooled connection, and
converts timestamps, which SQLite keeps as text (see ``meta.UTCDateTime``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from ..clock import UTC
from .meta import SQLITE_TIMESTAMP_FORMAT

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class PostgresDialect:
    name = "postgresql"
    placeholder = "%s"
    #: SQLAlchemy's dialect with positional parameters, for CompiledQuery.
    sqlalchemy = PGDialect_psycopg(paramstyle="format")

    @staticmethod
    def execute(cursor, sql: str, params: tuple) -> None:
        # Binary results: timestamps arrive without text parsing.
        cursor.execute(sql, params, binary=True)

    @staticmethod
    def commit(cursor) -> None:
        """The read pool's connections are in autocommit mode: nothing to do."""

    @staticmethod
    def timestamp_param(value: datetime) -> datetime:
        return value

    @staticmethod
    def timestamp(value: Any) -> datetime | None:
        # psycopg gives the server's TimeZone; a transaction pooler may hand
        # out connections whose TimeZone no startup option set.
        if value is None or value.tzinfo is UTC:
            return value
        return value.astimezone(UTC)


class SQLiteDialect:
    name = "sqlite"
    placeholder = "?"
    sqlalchemy = SQLiteDialect_pysqlite()

    @staticmethod
    def execute(cursor, sql: str, params: tuple) -> None:
        cursor.execute(sql, params)

    @staticmethod
    def commit(cursor) -> None:
        # sqlite3 began a transaction before the write.
        cursor.connection.commit()

    @staticmethod
    def timestamp_param(value: datetime) -> str:
        return value.astimezone(UTC).strftime(SQLITE_TIMESTAMP_FORMAT)

    @staticmethod
    def timestamp(value: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=UTC)


Dialect = PostgresDialect | SQLiteDialect


def dialect_for(engine: Engine) -> Dialect:
    if engine.dialect.name == "postgresql":
        return PostgresDialect()
    if engine.dialect.name == "sqlite":
        return SQLiteDialect()
    raise RuntimeError(f"dragonhoard supports PostgreSQL and SQLite, not {engine.dialect.name}")


def cursor_for(pooled_connection):
    """The cursor kept with a pooled connection (made once per connection)."""
    info = pooled_connection.info
    cursor = info.get("dragonhoard.cursor")
    if cursor is None:
        cursor = info["dragonhoard.cursor"] = pooled_connection.driver_connection.cursor()
    return cursor


class HotStatement:
    """One statement, compiled per dialect on first use."""

    __slots__ = ("sql", "names", "_compiled")

    def __init__(self, sql: str) -> None:
        self.sql = " ".join(sql.split())
        self.names = tuple(_PARAM.findall(self.sql))
        self._compiled: dict[str, str] = {}

    def text(self, dialect: Dialect) -> str:
        text = self._compiled.get(dialect.name)
        if text is None:
            text = self._compiled[dialect.name] = _PARAM.sub(dialect.placeholder, self.sql)
        return text

    def run(self, cursor, dialect: Dialect, params: Mapping[str, Any]) -> None:
        dialect.execute(cursor, self.text(dialect), tuple(params[name] for name in self.names))

    def one(self, cursor, dialect: Dialect, params: Mapping[str, Any]) -> tuple | None:
        """The first row, or None."""
        self.run(cursor, dialect, params)
        return cursor.fetchone()


class CompiledQuery:
    """A SQLAlchemy Core statement, compiled once per dialect and then run on
    the hot cursor like a :class:`HotStatement`: for statements too intricate
    to write by hand for two databases (the lists), without paying for
    building and compiling them on every request. Parameters are
    ``bindparam`` names; literals keep the values they were built with."""

    __slots__ = ("statement", "_compiled")

    def __init__(self, statement: Select) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict]:
        entry = self._compiled.get(dialect.name)
        if entry is None:
            compiled = self.statement.compile(dialect=dialect.sqlalchemy)
            entry = (compiled.string, tuple(compiled.positiontup), compiled.params)
            self._compiled[dialect.name] = entry
        return entry

    def all(self, cursor, dialect: Dialect, params: Mapping[str, Any]) -> list[tuple]:
        sql, names, defaults = self._for(dialect)
        dialect.execute(cursor, sql, tuple(params[n] if n in params else defaults[n] for n in names))
        return cursor.fetchall()
