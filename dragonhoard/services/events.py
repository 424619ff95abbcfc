"""A user's own security log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..models import AuditEvent, EventKind
from .pagination import paginate


def list_events(dbsession: Session, user_id: int, *, page: int, per_page: int) -> tuple[list, int]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.user_id == user_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    return paginate(dbsession, query, page=page, per_page=per_page)


#: What the security log's chart counts, per day.
LOGINS = (EventKind.LOGIN_SUCCESS,)
FAILURES = (EventKind.LOGIN_FAILURE, EventKind.LOGIN_THROTTLED, EventKind.SUDO_FAILURE)


@dataclass(frozen=True)
class Day:
    day: date
    logins: int
    failures: int


def _day_of(column, dialect: str):
    """The UTC calendar day of a stored timestamp, in SQL."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC text: 'YYYY-MM-DD ...'


def daily_logins(dbsession: Session, user_id: int, *, days: int = 30) -> list[Day]:
    """The user's logins and failed attempts on each of the last ``days`` days
    (UTC, today included), oldest first; one grouped statement."""
    today = clock.now().date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(0), tzinfo=UTC)
    day = _day_of(AuditEvent.created_at, dbsession.get_bind().dialect.name)
    kinds = [kind.value for kind in (*LOGINS, *FAILURES)]
    rows = dbsession.execute(
        select(day, AuditEvent.kind, func.count())
        .where(AuditEvent.user_id == user_id, AuditEvent.created_at >= since,
               AuditEvent.kind.in_(kinds))
        .group_by(day, AuditEvent.kind)
    ).all()
    counts: dict[date, list[int]] = {first + timedelta(days=n): [0, 0] for n in range(days)}
    for when, kind, count in rows:
        when = when if isinstance(when, date) else date.fromisoformat(str(when)[:10])
        if when in counts:
            counts[when][0 if kind in LOGINS else 1] += count
    return [Day(when, logins, failures) for when, (logins, failures) in counts.items()]
