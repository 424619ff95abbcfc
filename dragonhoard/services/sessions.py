"""Listing and revoking a user's login sessions, for the API and the pages."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import LoginSession
from .pagination import paginate


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


def session_json(row: LoginSession, current_id: int | None, idle_seconds: int) -> dict:
    return {
        "id": row.id,
        "created_at": row.created_at,
        "last_seen_at": row.last_seen_at,
        # The earlier of the idle and the absolute limit.
        "expires_at": min(row.expires_at, row.last_seen_at + timedelta(seconds=idle_seconds)),
        "ip": row.ip,
        "user_agent": row.user_agent,
        "current": row.id == current_id,
    }


def revoke_session(dbsession: Session, user_id: int, session_id: int, idle_seconds: int) -> bool:
    """Revoke one of the user's live sessions; False when there is no such session."""
    live = live_sessions_query(user_id, idle_seconds).where(LoginSession.id == session_id)
    found = dbsession.scalars(live).first()
    if found is None:
        return False
    dbsession.execute(
        update(LoginSession).where(LoginSession.id == session_id).values(revoked_at=clock.now())
    )
    return True
