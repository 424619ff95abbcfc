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

from .models import get_tm_session
from .security.bookkeeping import Bookkeeping

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .settings import Settings

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


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
        """The ORM session, committed or rolled back with the request.

        Safe methods must not write, so their session runs without an
        explicit transaction: no BEGIN and no COMMIT round trips.
        """
        registry = self.registry
        if self.method in SAFE_METHODS:
            factory = registry.dh_read_session_factory
        else:
            factory = registry.dh_session_factory
        return get_tm_session(factory, self.tm, request=self)

    @reify
    def dbapi_connection(self):
        """The driver connection under :attr:`dbsession`, for the hot statements."""
        return self.dbsession.connection().connection.driver_connection

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
