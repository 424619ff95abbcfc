"""Writes that must survive the request's rollback (DESIGN section 11).

Audit events and last-used/last-seen times are queued during the request and
written by the bookkeeping tween (``tweens.py``) once the request's own
transaction has ended: outside it, once per request even when pyramid_retry
replays it. They are the only writes a refused request may leave behind.

- Records (audit events, refused-token notes) go out in one short
  transaction on a connection of the main pool.
- Touches (last-used and last-seen times, at most once a minute each) are
  one conditional UPDATE each on the request's read connection: autocommit,
  separate from any transaction, and without waiting for the WAL flush (a
  last-used time lost to a crash costs nothing; the wait, or a connection of
  its own, would cost every such request). A row another transaction holds
  is skipped, never waited for.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .. import clock
from ..models import ApiToken, AuditEvent
from ..models.hot import HotStatement

log = logging.getLogger(__name__)

#: last_used_at, last_seen_at and token:refused events: at most once a minute.
INTERVAL = timedelta(seconds=60)

_TOUCH_TOKEN = """
    UPDATE api_tokens SET last_used_at = :at, last_used_ip = :ip
    WHERE id = (SELECT id FROM api_tokens WHERE id = :id
                AND (last_used_at IS NULL OR last_used_at < :cutoff) {lock})
"""
_TOUCH_SESSION = """
    UPDATE login_sessions SET last_seen_at = :at
    WHERE id = (SELECT id FROM login_sessions WHERE id = :id AND last_seen_at < :cutoff {lock})
"""
#: {dialect: statement}: PostgreSQL skips a locked row; SQLite has no row locks.
TOUCH_TOKEN = {
    "postgresql": HotStatement(_TOUCH_TOKEN.format(lock="FOR UPDATE SKIP LOCKED")),
    "sqlite": HotStatement(_TOUCH_TOKEN.format(lock="")),
}
TOUCH_SESSION = {
    "postgresql": HotStatement(_TOUCH_SESSION.format(lock="FOR UPDATE SKIP LOCKED")),
    "sqlite": HotStatement(_TOUCH_SESSION.format(lock="")),
}


def _skip_locked(statement, dialect_name: str):
    return statement.with_for_update(skip_locked=True) if dialect_name == "postgresql" else statement


class Bookkeeping:
    def __init__(self, engine: Engine, ip: str | None,
                 touch_cursor: Callable[[], Any] | None = None, dialect=None) -> None:
        self.engine = engine
        self.ip = ip
        self._touch_cursor = touch_cursor
        self._dialect = dialect
        self._records: list[Callable[[Connection], None]] = []
        self._touches: list[tuple[HotStatement, dict]] = []

    @classmethod
    def for_request(cls, request) -> Bookkeeping:
        registry = request.registry
        return cls(registry.dh_engine, request.client_addr, request.touch_cursor, registry.dh_dialect)

    def audit(self, kind: str, user_id: int | None, **details: Any) -> None:
        """Queue a security-log event. ``details`` must never hold a secret."""
        ip, at = self.ip, clock.now()

        def write(conn: Connection) -> None:
            conn.execute(
                insert(AuditEvent).values(
                    user_id=user_id, kind=kind, ip=ip, created_at=at, details=details
                )
            )

        self._records.append(write)

    def touch_token(self, token_id: int) -> None:
        at = clock.now()
        self._touches.append((TOUCH_TOKEN, {"id": token_id, "at": at, "cutoff": at - INTERVAL,
                                            "ip": self.ip}))

    def touch_session(self, session_id: int) -> None:
        at = clock.now()
        self._touches.append((TOUCH_SESSION, {"id": session_id, "at": at, "cutoff": at - INTERVAL}))

    def token_refused(self, token_id: int, owner_id: int, *, expired: bool) -> None:
        """A revoked or expired token was presented: log it, once a minute per token."""
        ip, at = self.ip, clock.now()

        def write(conn: Connection) -> None:
            due = select(ApiToken.id).where(
                ApiToken.id == token_id,
                or_(ApiToken.last_refused_at.is_(None), ApiToken.last_refused_at < at - INTERVAL),
            )
            result = conn.execute(
                update(ApiToken)
                .where(ApiToken.id.in_(_skip_locked(due, conn.dialect.name).scalar_subquery()))
                .values(last_refused_at=at)
            )
            if result.rowcount == 1:
                conn.execute(
                    insert(AuditEvent).values(
                        user_id=owner_id,
                        kind="token:refused",
                        ip=ip,
                        created_at=at,
                        details={"token_id": token_id, "reason": "expired" if expired else "revoked"},
                    )
                )

        self._records.append(write)

    def flush(self) -> None:
        records, self._records = self._records, []
        touches, self._touches = self._touches, []
        # The answer is already decided: losing a log line must not turn it
        # into an error. The operator sees the failure in the log.
        if records:
            try:
                with self.engine.begin() as conn:
                    for write in records:
                        write(conn)
            except IntegrityError:
                self._write_one_by_one(records)
            except SQLAlchemyError as exc:
                log.error("security bookkeeping could not be written: %s", exc.__class__.__name__)
        if touches:
            try:
                self._write_touches(touches)
            except Exception as exc:
                log.error("last-used times could not be written: %s", exc.__class__.__name__)

    def _write_one_by_one(self, records: list[Callable[[Connection], None]]) -> None:
        """An event about a row the request's rolled-back transaction would
        have made (``user:registered`` for a user that is not there) cannot
        be written; the others still are."""
        for write in records:
            try:
                with self.engine.begin() as conn:
                    write(conn)
            except SQLAlchemyError as exc:
                log.warning("a security event was dropped: %s", exc.__class__.__name__)

    def _write_touches(self, touches: list[tuple[dict, dict]]) -> None:
        dialect = self._dialect
        cursor = self._touch_cursor()
        for statements, params in touches:
            params = dict(params, at=dialect.timestamp_param(params["at"]),
                          cutoff=dialect.timestamp_param(params["cutoff"]))
            statements[dialect.name].run(cursor, dialect, params)
        dialect.commit(cursor)
