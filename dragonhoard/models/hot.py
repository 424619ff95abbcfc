"""Hand-written statements on the request's own driver connection.

Authentication and context loading run on every request; going through the
driver directly, rather than SQLAlchemy's Core or ORM, is what keeps a
bearer GET within its budget (docs/architecture.md, "Speed"). Everything
else uses the ORM.

Statements are written once, with ``:name`` parameters; the dialect adapter
turns them into the driver's style and converts timestamps, which SQLite
keeps as text (see ``meta.UTCDateTime``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from ..clock import UTC
from .meta import SQLITE_TIMESTAMP_FORMAT

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class PostgresDialect:
    name = "postgresql"

    def compile(self, sql: str) -> str:
        return _PARAM.sub(r"%(\1)s", sql)

    @staticmethod
    def timestamp_param(value: datetime) -> datetime:
        return value

    @staticmethod
    def timestamp(value: Any) -> datetime | None:
        return value


class SQLiteDialect:
    name = "sqlite"

    def compile(self, sql: str) -> str:
        return sql

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


class HotStatement:
    """One statement, compiled per dialect on first use."""

    __slots__ = ("sql", "_compiled")

    def __init__(self, sql: str) -> None:
        self.sql = " ".join(sql.split())
        self._compiled: dict[str, str] = {}

    def _text(self, dialect: Dialect) -> str:
        text = self._compiled.get(dialect.name)
        if text is None:
            text = self._compiled[dialect.name] = dialect.compile(self.sql)
        return text

    def one(self, connection, dialect: Dialect, params: Mapping[str, Any]) -> tuple | None:
        """The first row, or None."""
        # psycopg's and sqlite3's connections both have execute().
        cursor = connection.execute(self._text(dialect), params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()
