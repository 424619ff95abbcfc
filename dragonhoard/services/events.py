"""A user's own security log."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent
from .pagination import paginate


def list_events(dbsession: Session, user_id: int, *, page: int, per_page: int) -> tuple[list, int]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.user_id == user_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    return paginate(dbsession, query, page=page, per_page=per_page)
