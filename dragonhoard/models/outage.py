"""Logging a database outage once, and its end once.

While the database is away every request answers 503; a warning for each
would be hundreds of lines a second per process. The first failure of an
outage is logged, the rest are counted, and the first request that the
database answered again, once failures have stopped for a moment, logs the
end with the count (a new connection proves nothing: PgBouncer accepts them
while PostgreSQL is down). A failure after a quiet minute counts as a new
outage.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("dragonhoard.database")

#: A failure this long after the previous one starts a new outage.
QUIET_SECONDS = 60.0
#: An answer ends an outage only this long after its last failure: while a
#: server goes down (or comes back) answers and failures interleave.
SETTLE_SECONDS = 1.0


class OutageLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._last: float = 0.0
        self._refused = 0

    def failed(self, what: str) -> None:
        """A request could not reach the database (``what``: the error's class)."""
        now = time.monotonic()
        with self._lock:
            new = self._since is None or now - self._last > QUIET_SECONDS
            if new:
                self._since, self._refused = now, 0
            self._last = now
            self._refused += 1
        if new:
            log.warning("database unavailable (%s): answering 503 until it is back", what)

    def answered(self) -> None:
        """A request that used the database was answered without its failing."""
        if self._since is None:  # the usual case: no lock taken
            return
        with self._lock:
            since, refused = self._since, self._refused
            if since is None or time.monotonic() - self._last < SETTLE_SECONDS:
                return
            self._since, self._refused = None, 0
        if since is not None:
            log.warning("database available again after %.0f s (%d answers were 503)",
                        time.monotonic() - since, refused)
