"""Every hand-written and pre-compiled statement of the fast path, by concern:
authentication, the item contexts and lists, and the last-used touches."""
from __future__ import annotations

from sqlalchemy import Integer, Select, and_, bindparam

from ...models import ApiTokenProject, Membership


def with_caller(query: Select, project_id) -> Select:
    """``query`` joined with the caller's membership of the project
    ``project_id`` names, and with whether the caller's token lists it
    (``:user_id`` and ``:token_id``; None matches nothing)."""
    return (
        query
        .outerjoin(Membership, and_(Membership.project_id == project_id,
                                    Membership.user_id == bindparam("user_id", type_=Integer)))
        .outerjoin(ApiTokenProject, and_(ApiTokenProject.project_id == project_id,
                                         ApiTokenProject.token_id == bindparam("token_id",
                                                                               type_=Integer)))
    )
