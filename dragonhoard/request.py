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

from . import application
from .db import FastPath
from .security.bookkeeping import Bookkeeping

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from .application import Application
    from .security.passwords import Passwords
    from .security.policy import SecurityPolicy
    from .security.throttle import Throttle
    from .settings import Settings

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
#: What OAuth apps (programs, not browsers) call: JSON answers only.
OAUTH_APP_PATHS = frozenset(("/oauth/token", "/oauth/revoke", "/oauth/introspect",
                             "/oauth/device_authorization",
                             "/.well-known/oauth-authorization-server"))
#: A GET that writes: the authorization endpoint issues a code at once for
#: a consent the user gave before (DESIGN section 15).
WRITING_GETS = frozenset(("/oauth/authorize",))


def needs_transaction(request) -> bool:
    """pyramid_tm's ``tm.activate_hook``: only unsafe methods (and the
    :data:`WRITING_GETS`) get a transaction.

    Safe methods must not write; they read without BEGIN/COMMIT and without
    the transaction machinery (docs/architecture.md, "Speed").
    """
    method = request.method
    # HEAD runs the GET view, and gets its Location (the code) too.
    return method not in SAFE_METHODS or (method != "OPTIONS" and request.path_info in WRITING_GETS)


class Request(PyramidRequest):
    @reify
    def tm(self):
        """The transaction manager pyramid_tm's tween begins and ends."""
        return pyramid_tm.create_tm(self)

    @reify
    def writes(self) -> bool:
        """Whether this request has a transaction (:func:`needs_transaction`),
        worked out once."""
        return needs_transaction(self)

    @reify
    def app(self) -> Application:
        return application.of(self.registry)

    @reify
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def policy(self) -> SecurityPolicy:
        return self.app.policy

    @property
    def passwords(self) -> Passwords:
        return self.app.passwords

    @property
    def throttle(self) -> Throttle:
        return self.app.throttle

    @property
    def is_api(self) -> bool:
        """Answers in JSON: the JSON API, and the endpoints OAuth apps call."""
        path = self.path_info
        return path.startswith("/api/") or path == "/api" or path in OAUTH_APP_PATHS

    @reify
    def read_connection(self) -> Connection:
        """A safe request's one connection (autocommit pool), for the fast
        path and the ORM alike; given back when the request ends."""
        connection = self.app.read_engine.connect()
        self.add_finished_callback(lambda _request: connection.close())
        return connection

    @reify
    def dbsession(self) -> Session:
        """The ORM session.

        For an unsafe method it joins pyramid_tm's transaction when first used
        and is committed or rolled back with the request. A safe method's
        session only reads, on the request's read connection, without BEGIN
        or COMMIT, and is closed when the request ends.
        """
        app = self.app
        if self.writes:
            return app.session_factory(info={"request": self})
        session = app.read_session_factory(bind=self.read_connection, info={"request": self})
        self.add_finished_callback(lambda _request: session.close())
        return session

    @reify
    def hot(self) -> FastPath:
        """The fast path (authentication, contexts, lists) on the request's
        connection: a safe request's read connection, or an unsafe one's
        session connection, so that what it reads and what it writes are one
        transaction."""
        if not self.writes:
            return FastPath(lambda: self.read_connection.connection, self.app.dialect)
        return FastPath(lambda: self.dbsession.connection().connection, self.app.dialect)

    @reify
    def touch_path(self) -> FastPath:
        """Where the last-used times are written: outside any transaction, on
        a safe request's own read connection, else on one of the read pool's."""
        if not self.writes:
            return self.hot
        return FastPath(lambda: self.read_connection.connection, self.app.dialect)

    @reify
    def bookkeeping(self) -> Bookkeeping:
        return Bookkeeping(self.app.engine, self.client_addr, lambda: self.touch_path)

    @property
    def client_addr(self) -> str | None:
        """The client's address: the socket's, or the one a trusted proxy
        forwarded, as waitress decided (``trusted_proxy`` in the ini file).

        WebOb's own ``client_addr`` believes any ``X-Forwarded-For`` header;
        dragonhoard never reads that header itself.
        """
        return self.environ.get("REMOTE_ADDR")
