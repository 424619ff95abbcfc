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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .. import clock
from ..models import ApiToken, AuditEvent, EventKind

if TYPE_CHECKING:
    from ..db import FastPath

log = logging.getLogger(__name__)

#: last_used_at, last_seen_at and token:refused events: at most once a minute.
INTERVAL = timedelta(seconds=60)

def _skip_locked(statement, dialect_name: str):
    return statement.with_for_update(skip_locked=True) if dialect_name == "postgresql" else statement


class Bookkeeping:
    """The request's (or a command's) security writes, queued until :meth:`flush`.

    ``touch_path`` gives the fast path that writes the last-used times
    (``request.touch_path``); a command line writes none.
    """

    def __init__(self, engine: Engine, ip: str | None,
                 touch_path: Callable[[], FastPath] | None = None) -> None:
        self.engine = engine
        self.ip = ip
        self._touch_path = touch_path
        self._records: list[Callable[[Connection], None]] = []
        self._touches: list[Callable[[FastPath], None]] = []

    def audit(self, kind: EventKind | str, user_id: int | None, **details: Any) -> None:
        """Queue a security-log event. ``details`` must never hold a secret.

        ``kind`` must be one of :class:`EventKind` (DESIGN section 7): an
        unknown kind is a programming error, raised here at once.
        """
        kind = EventKind(kind)
        ip, at = self.ip, clock.now()

        def write(conn: Connection) -> None:
            conn.execute(
                insert(AuditEvent).values(
                    user_id=user_id, kind=kind, ip=ip, created_at=at, details=details
                )
            )

        self._records.append(write)

    def touch_token(self, token_id: int) -> None:
        at, ip = clock.now(), self.ip
        self._touches.append(lambda path: path.touch_token(token_id, at, ip, INTERVAL))

    def touch_session(self, session_id: int) -> None:
        at = clock.now()
        self._touches.append(lambda path: path.touch_session(session_id, at, INTERVAL))

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
                        kind=EventKind.TOKEN_REFUSED,
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

    def _write_touches(self, touches: list[Callable[[FastPath], None]]) -> None:
        path = self._touch_path()
        for touch in touches:
            touch(path)
        path.commit()
