"""Writes that must survive the request's rollback (DESIGN section 11).

Audit events and last-used/last-seen times are queued during the request and
written by the bookkeeping tween (``tweens.py``) once the request's own
transaction has ended: on their own short transaction, on a separate
connection, once per request even when pyramid_retry replays it. They are
the only writes a refused request may leave behind.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import clock
from ..models import ApiToken, AuditEvent, LoginSession

log = logging.getLogger(__name__)

#: last_used_at, last_seen_at and token:refused events: at most once a minute.
INTERVAL = timedelta(seconds=60)


def _skip_locked(statement, dialect_name: str):
    # Never wait for a row another transaction holds (a rotation, a revocation):
    # a missed last-used time costs nothing, a blocked request does.
    return statement.with_for_update(skip_locked=True) if dialect_name == "postgresql" else statement


class Bookkeeping:
    def __init__(self, engine: Engine, ip: str | None) -> None:
        self.engine = engine
        self.ip = ip
        self._writes: list[Callable[[Connection], None]] = []
        #: Whether every queued write is a last-used/last-seen time.
        self._only_touches = True

    @classmethod
    def for_request(cls, request) -> Bookkeeping:
        return cls(request.registry.dh_engine, request.client_addr)

    def audit(self, kind: str, user_id: int | None, **details: Any) -> None:
        """Queue a security-log event. ``details`` must never hold a secret."""
        ip, at = self.ip, clock.now()

        def write(conn: Connection) -> None:
            conn.execute(
                insert(AuditEvent).values(
                    user_id=user_id, kind=kind, ip=ip, created_at=at, details=details
                )
            )

        self._only_touches = False
        self._writes.append(write)

    def touch_token(self, token_id: int) -> None:
        ip, at = self.ip, clock.now()

        def write(conn: Connection) -> None:
            due = select(ApiToken.id).where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < at - INTERVAL),
            )
            conn.execute(
                update(ApiToken)
                .where(ApiToken.id.in_(_skip_locked(due, conn.dialect.name).scalar_subquery()))
                .values(last_used_at=at, last_used_ip=ip)
            )

        self._writes.append(write)

    def touch_session(self, session_id: int) -> None:
        at = clock.now()

        def write(conn: Connection) -> None:
            due = select(LoginSession.id).where(
                LoginSession.id == session_id, LoginSession.last_seen_at < at - INTERVAL
            )
            conn.execute(
                update(LoginSession)
                .where(LoginSession.id.in_(_skip_locked(due, conn.dialect.name).scalar_subquery()))
                .values(last_seen_at=at)
            )

        self._writes.append(write)

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

        self._only_touches = False
        self._writes.append(write)

    def flush(self) -> None:
        writes, self._writes = self._writes, []
        if not writes:
            return
        only_touches, self._only_touches = self._only_touches, True
        try:
            with self.engine.begin() as conn:
                if only_touches and conn.dialect.name == "postgresql":
                    # A last-used time lost to a crash costs nothing; the wait
                    # for the WAL flush would cost every such request.
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                for write in writes:
                    write(conn)
        except SQLAlchemyError:
            # The answer is already decided; losing a log line must not turn
            # it into an error. The operator sees this in the log.
            log.exception("security bookkeeping could not be written")
