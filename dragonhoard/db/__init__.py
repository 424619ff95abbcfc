"""The fast path: the statements every request runs, behind one door.

``request.hot`` is a :class:`FastPath` bound to the request's connection. It
runs the hand-written and pre-compiled statements of ``db/queries`` on the
driver's cursor and answers typed rows (``db/rows.py``), decoded once per
dialect (``db/dialects.py``); nothing outside this package sees a cursor, a
dialect or a tuple index. The ORM serves the writes and the rare paths.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .dialects import Dialect, dialect_for
from .queries import auth, projects, touches, treasures
from .queries.auth import SessionRow, TokenRow
from .queries.projects import ProjectContextRow
from .queries.treasures import TreasureContextRow, TreasureListing
from .statements import every, one, run

__all__ = ["Caller", "Dialect", "FastPath", "TreasureListing", "cursor_for", "dialect_for"]


class Caller(NamedTuple):
    """Who the contexts are loaded for: the user and their token (None: nobody)."""

    user_id: int | None = None
    token_id: int | None = None


def cursor_for(pooled_connection) -> Any:
    """The cursor kept with a pooled connection (made once per connection)."""
    info = pooled_connection.info
    cursor = info.get("dragonhoard.cursor")
    if cursor is None:
        cursor = info["dragonhoard.cursor"] = pooled_connection.driver_connection.cursor()
    return cursor


class FastPath:
    """The request's statements on one connection, got when first needed."""

    __slots__ = ("_connection", "_cursor", "dialect")

    def __init__(self, connection: Callable[[], Any], dialect: Dialect) -> None:
        self._connection = connection
        self._cursor = None
        self.dialect = dialect

    @property
    def cursor(self):
        if self._cursor is None:
            self._cursor = cursor_for(self._connection())
        return self._cursor

    # -- authentication ---------------------------------------------------

    def token(self, token_hash: str) -> TokenRow | None:
        return one(self.cursor, self.dialect, auth.TOKEN_BY_HASH, {"token_hash": token_hash})

    def login_session(self, secret_hash: str) -> SessionRow | None:
        return one(self.cursor, self.dialect, auth.SESSION_BY_HASH, {"secret_hash": secret_hash})

    # -- contexts ---------------------------------------------------------

    def treasure(self, treasure_id: int, caller: Caller) -> TreasureContextRow | None:
        return one(self.cursor, self.dialect, treasures.TREASURE_CONTEXT,
                   {"id": treasure_id, "user_id": caller.user_id, "token_id": caller.token_id})

    def project(self, slug: str, caller: Caller) -> ProjectContextRow | None:
        return one(self.cursor, self.dialect, projects.PROJECT_CONTEXT,
                   {"slug": slug, "user_id": caller.user_id, "token_id": caller.token_id})

    # -- lists ------------------------------------------------------------

    def treasure_page(self, listing: TreasureListing) -> tuple[list, int]:
        """A page of the treasures ``listing`` names (rows that start with the
        treasure shape's columns), and how many there are: one statement."""
        page, total_only = treasures.list_statements(self.dialect.name, *listing.shape)
        params = listing.params
        rows = every(self.cursor, self.dialect, page, params)
        if rows:
            return rows, rows[0].total
        if listing.page == 1:
            return rows, 0
        # Past the last page: no row carried the total.
        return rows, every(self.cursor, self.dialect, total_only, params)[0].total

    # -- last-used times (security/bookkeeping.py) -----------------------

    def touch_token(self, token_id: int, at: datetime, ip: str | None, interval: timedelta) -> None:
        self._touch(touches.TOUCH_TOKEN, {"id": token_id, "at": at, "cutoff": at - interval, "ip": ip})

    def touch_session(self, session_id: int, at: datetime, interval: timedelta) -> None:
        self._touch(touches.TOUCH_SESSION, {"id": session_id, "at": at, "cutoff": at - interval})

    def _touch(self, statements: dict, params: dict) -> None:
        dialect = self.dialect
        params["at"] = dialect.timestamp_param(params["at"])
        params["cutoff"] = dialect.timestamp_param(params["cutoff"])
        run(self.cursor, dialect, statements[dialect.name], params)

    def commit(self) -> None:
        """End what the touches wrote (the read pool is in autocommit mode on
        PostgreSQL; SQLite's driver began a transaction before the write)."""
        self.dialect.commit(self.cursor)
