"""One statement for a page of a list and its total (DESIGN section 12)."""
from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def paginate(dbsession: Session, query: Select, *, page: int, per_page: int) -> tuple[list, int]:
    """The rows of ``page`` (``query`` carries its own ORDER BY) and the total.

    The total rides along as ``count(*) OVER ()``; only a page past the end,
    which has no row to carry it, costs a second statement.
    """
    counted = query.add_columns(func.count().over().label("total"))
    rows = dbsession.execute(counted.limit(per_page).offset((page - 1) * per_page)).all()
    if rows:
        return [row[0] if len(row) == 2 else row[:-1] for row in rows], rows[0][-1]
    if page == 1:
        return [], 0
    total = dbsession.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return [], total
