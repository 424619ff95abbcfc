"""Listing and revoking a user's login sessions, for the API and the pages."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import EventKind, LoginSession
from ..security.bookkeeping import Bookkeeping
from .pagination import paginate
from .users import revoke_sessions


def live_sessions_query(user_id: int, idle_seconds: int):
    now = clock.now()
    return select(LoginSession).where(
        LoginSession.user_id == user_id,
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > now,
        LoginSession.last_seen_at > now - timedelta(seconds=idle_seconds),
    )


def list_sessions(dbsession: Session, user_id: int, idle_seconds: int, *, page: int = 1,
                  per_page: int = 100) -> tuple[list[LoginSession], int]:
    """The user's live sessions, newest first, and how many there are."""
    query = live_sessions_query(user_id, idle_seconds).order_by(
        LoginSession.created_at.desc(), LoginSession.id.desc()
    )
    return paginate(dbsession, query, page=page, per_page=per_page)


def revoke_session(dbsession: Session, events: Bookkeeping, user_id: int, session_id: int,
                   idle_seconds: int) -> bool:
    """Revoke one of the user's live sessions; False when there is no such session."""
    live = live_sessions_query(user_id, idle_seconds).where(LoginSession.id == session_id)
    found = dbsession.scalars(live).first()
    if found is None:
        return False
    dbsession.execute(
        update(LoginSession).where(LoginSession.id == session_id).values(revoked_at=clock.now())
    )
    events.audit(EventKind.SESSION_REVOKED, user_id, session_id=session_id)
    return True


def revoke_other_sessions(dbsession: Session, events: Bookkeeping, user_id: int,
                          current_session_id: int) -> int:
    """Revoke every live session of the user's but the current one; how many."""
    count = revoke_sessions(dbsession, user_id, keep_session_id=current_session_id)
    events.audit(EventKind.SESSION_REVOKED, user_id, others=True, count=count)
    return count
