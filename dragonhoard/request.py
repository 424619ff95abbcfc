"""dragonhoard's Request class.

Per-request helpers live here as plain ``reify`` attributes rather than
``config.add_request_method(..., reify=True)``: Pyramid builds a new class
for every request that has such extensions (about 25 us each time).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pyramid_tm
from pyramid.decorator import reify
from pyramid.request import Request as PyramidRequest

from .models.hot import cursor_for
from .security.bookkeeping import Bookkeeping

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .settings import Settings

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def needs_transaction(request) -> bool:
    """pyramid_tm's ``tm.activate_hook``: only unsafe methods get a transaction.

    Safe methods must not write; they read without BEGIN/COMMIT and without
    the transaction machinery (docs/architecture.md, "Speed").
    """
    return request.method not in SAFE_METHODS


class Request(PyramidRequest):
    @reify
    def tm(self):
        """The transaction manager pyramid_tm's tween begins and ends."""
        return pyramid_tm.create_tm(self)

    @reify
    def settings(self) -> Settings:
        return self.registry.dh_settings

    @property
    def is_api(self) -> bool:
        return self.path_info.startswith("/api/") or self.path_info == "/api"

    @reify
    def dbsession(self) -> Session:
        """The ORM session.

        For an unsafe method it joins pyramid_tm's transaction when first used
        and is committed or rolled back with the request. A safe method's
        session only reads, without BEGIN or COMMIT, and is closed when the
        request ends.
        """
        registry = self.registry
        if self.method not in SAFE_METHODS:
            return registry.dh_session_factory(info={"request": self})
        session = registry.dh_read_session_factory(info={"request": self})
        self.add_finished_callback(lambda _request: session.close())
        return session

    @reify
    def db_cursor(self):
        """The driver cursor for the hot statements (authentication, context).

        A safe request reads on a connection of the autocommit pool, without a
        transaction and without the ORM session's machinery; an unsafe one
        uses its session's connection, so that what it reads and what it
        writes are one transaction.
        """
        if self.method not in SAFE_METHODS:
            return cursor_for(self.dbsession.connection().connection)
        return self._read_pool_cursor()

    def touch_cursor(self):
        """A cursor outside any transaction, for the last-used times: a safe
        request's own read connection, else one of the read pool's."""
        if self.method in SAFE_METHODS:
            return self.db_cursor
        return self._read_pool_cursor()

    def _read_pool_cursor(self):
        """A connection of the autocommit pool, given back when the request ends."""
        pooled = self.registry.dh_read_engine.raw_connection()
        self.add_finished_callback(lambda _request: pooled.close())
        return cursor_for(pooled)

    @reify
    def bookkeeping(self) -> Bookkeeping:
        return Bookkeeping.for_request(self)

    @property
    def client_addr(self) -> str | None:
        """The client's address: the socket's, or the one a trusted proxy
        forwarded, as waitress decided (``trusted_proxy`` in the ini file).

        WebOb's own ``client_addr`` believes any ``X-Forwarded-For`` header;
        dragonhoard never reads that header itself.
        """
        return self.environ.get("REMOTE_ADDR")
