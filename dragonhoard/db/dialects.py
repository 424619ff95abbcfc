"""What differs between the two databases on the fast path: how a statement
is run, how parameters are written and how values come back.

PostgreSQL (psycopg, binary results) gives Python types; its timestamps are
converted to UTC whatever the session's TimeZone (a transaction pooler hands
out connections nothing set up). SQLite keeps timestamps as naive UTC text
(see ``models.meta.UTCDateTime``) and booleans as integers. Decoding happens
here and nowhere else (``db.rows``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from ..clock import UTC
from ..models.meta import SQLITE_TIMESTAMP_FORMAT


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


class PostgresDialect:
    name = "postgresql"
    placeholder = "%s"
    #: SQLAlchemy's dialect with positional parameters, for Core statements.
    sqlalchemy = PGDialect_psycopg(paramstyle="format")
    #: Value converters by kind (None: the driver's value is right as it is).
    decoders: dict[str, Any] = {"timestamp": _utc, "bool": None}

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


class SQLiteDialect:
    name = "sqlite"
    placeholder = "?"
    sqlalchemy = SQLiteDialect_pysqlite()
    decoders: dict[str, Any] = {"timestamp": _sqlite_timestamp, "bool": bool}

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


Dialect = PostgresDialect | SQLiteDialect


def dialect_for(engine: Engine) -> Dialect:
    if engine.dialect.name == "postgresql":
        return PostgresDialect()
    if engine.dialect.name == "sqlite":
        return SQLiteDialect()
    raise RuntimeError(f"dragonhoard supports PostgreSQL and SQLite, not {engine.dialect.name}")
