"""Statements of the fast path, prepared once per dialect and run on a driver
cursor with positional parameters, answering typed rows (``rows.py``).

- :class:`SQLStatement`: hand-written SQL with ``:name`` parameters, which
  each dialect's placeholder replaces once;
- :class:`CoreStatement`: a SQLAlchemy Core statement, compiled once per
  dialect, for statements too intricate to write by hand for two databases
  (contexts and lists); parameters are ``bindparam`` names, literals keep the
  values they were built with.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable

from .dialects import Dialect
from .rows import decode_with

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


def positional(sql: str, placeholder: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` parameters replaced by ``placeholder``, and the names in order.

    ``::type`` casts and names inside words are left alone.
    """
    return _PARAM.sub(placeholder, sql), tuple(_PARAM.findall(sql))


class SQLStatement:
    """Hand-written SQL answering ``row`` (None for a statement without rows)."""

    __slots__ = ("sql", "row", "_compiled")

    def __init__(self, sql: str, row: type | None = None) -> None:
        self.sql = " ".join(sql.split())
        self.row = row
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict]:
        """``(sql, parameter names, defaults)`` for ``dialect``."""
        entry = self._compiled.get(dialect.name)
        if entry is None:
            sql, names = positional(self.sql, dialect.placeholder)
            entry = self._compiled[dialect.name] = (sql, names, {})
        return entry


class CoreStatement:
    """A Core statement answering ``row`` (its selected columns, in order)."""

    __slots__ = ("statement", "row", "_compiled")

    def __init__(self, statement: Executable, row: type | None = None) -> None:
        self.statement = statement
        self.row = row
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict]:
        entry = self._compiled.get(dialect.name)
        if entry is None:
            compiled = self.statement.compile(dialect=dialect.sqlalchemy)
            entry = (compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))
            self._compiled[dialect.name] = entry
        return entry


Statement = SQLStatement | CoreStatement


def bind(statement: Statement, dialect: Dialect, params: Mapping[str, Any]) -> tuple[str, tuple]:
    """The SQL text and positional parameters for one run."""
    sql, names, defaults = statement.compiled(dialect)
    return sql, tuple(params[name] if name in params else defaults[name] for name in names)


def run(cursor, dialect: Dialect, statement: Statement, params: Mapping[str, Any]) -> None:
    sql, values = bind(statement, dialect, params)
    dialect.execute(cursor, sql, values)


def one(cursor, dialect: Dialect, statement: Statement, params: Mapping[str, Any]):
    """The first row, typed, or None."""
    run(cursor, dialect, statement, params)
    raw = cursor.fetchone()
    return None if raw is None else decode_with(statement.row, dialect)(raw)


def every(cursor, dialect: Dialect, statement: Statement, params: Mapping[str, Any]) -> list:
    """Every row, typed."""
    run(cursor, dialect, statement, params)
    decode = decode_with(statement.row, dialect)
    return [decode(raw) for raw in cursor.fetchall()]
