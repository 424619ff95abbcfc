"""Treasures: the item context and the lists, sharing one column list.

The first columns of every statement here are the treasure's answer shape
(``schemas.shapes.Treasure``), in its order: a field added to the shape is
one edit there and one to :data:`TREASURE_COLUMNS`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import aliased

from ...models import ApiTokenProject, Membership, Project, Treasure, TreasureCounts
from ...schemas import shapes
from ..rows import row_type
from ..statements import CoreStatement
from . import with_caller

#: The treasure shape's columns, in its order.
TREASURE_COLUMNS = (
    Treasure.id, Treasure.name, Treasure.description, Treasure.value, Treasure.cool_factor,
    Treasure.is_published, Treasure.owner_id, Project.slug.label("project"), Treasure.plundered_at,
    Treasure.created_at,
)

#: The context of /api/treasures/{id}: the treasure, its project, the caller's
#: role there, whether a restricted token lists that project, and whether the
#: project requires a second factor.
TreasureContextRow = row_type("TreasureContextRow", shapes.Treasure, [
    ("project_id", int | None), ("caller_role", str | None), ("listed", int | None),
    ("require_mfa", bool | None),
])
TreasureListRow = row_type("TreasureListRow", shapes.Treasure, [("total", int)])


class TotalRow(NamedTuple):
    """How many the list holds (a page past the end has no row to carry it)."""

    total: int


TREASURE_CONTEXT = CoreStatement(
    with_caller(
        select(*TREASURE_COLUMNS, Treasure.project_id, Membership.role.label("caller_role"),
               ApiTokenProject.project_id.label("listed"), Project.require_mfa)
        .select_from(Treasure)
        .outerjoin(Project, Project.id == Treasure.project_id),
        Treasure.project_id,
    )
    .where(Treasure.id == bindparam("id", type_=Integer)),
    TreasureContextRow,
)


#: What a caller may see besides published treasures (services.treasures.caller_kind).
NOBODY, MEMBER, ADMIN, RESTRICTED, RESTRICTED_ADMIN = (
    "nobody", "member", "admin", "restricted", "restricted-admin")


def _project_in(ids: Select, dialect: str) -> ColumnElement:
    """``project_id IN (ids)``, in the form each planner turns into index scans
    (PostgreSQL plans ``= ANY(array)`` beside the owner test as a BitmapOr,
    where ``IN (subquery)`` made it scan the whole table)."""
    if dialect == "postgresql":
        rows = ids.subquery()
        collected = select(func.array_agg(next(iter(rows.c))))
        return Treasure.project_id == any_(func.coalesce(collected.scalar_subquery(),
                                                         array([], type_=Integer)))
    return Treasure.project_id.in_(ids)


#: Projects seen from inside a list's conditions (the page joins ``Project`` itself).
_GATE = aliased(Project, name="gate")


def _without_mfa_project() -> ColumnElement:
    """The treasure is in no project that requires a second factor."""
    return ~exists().where(_GATE.id == Treasure.project_id, _GATE.require_mfa.is_(True))


def private(kind: str, dialect: str, gated: bool = False) -> ColumnElement | None:
    """The unpublished treasures a caller of this kind may view (None: none),
    for the caller ``:uid`` and their token ``:tid``.

    The SQL twin of the treasure ACL (resources/treasures.py): with
    ``treasure:read``, the caller's own, their projects' and (admin rights)
    everyone's, within a restricted token's reach. ``gated``: the caller has
    no second factor, so projects that require one show none of their
    private treasures (security/policy.py refuses their items). The
    permission-table walk and the list tests check that lists and items agree.
    """
    if kind == NOBODY:
        return None
    if kind == ADMIN:
        return _without_mfa_project() if gated else true()
    uid = bindparam("uid", type_=Integer)
    member_of = select(Membership.project_id).where(Membership.user_id == uid)
    own = Treasure.owner_id == uid
    if gated:
        member_of = member_of.join(_GATE, _GATE.id == Membership.project_id).where(
            _GATE.require_mfa.is_(False))
        own = and_(own, _without_mfa_project())
    mine = or_(own, _project_in(member_of, dialect))
    if kind == MEMBER:
        return mine
    listed = select(ApiTokenProject.project_id).where(
        ApiTokenProject.token_id == bindparam("tid", type_=Integer))
    reach = or_(and_(Treasure.project_id.is_(None), Treasure.owner_id == uid),
                _project_in(listed, dialect))
    if kind == RESTRICTED_ADMIN:
        return and_(reach, _without_mfa_project()) if gated else reach
    return and_(reach, mine)


def _count(condition: ColumnElement) -> ColumnElement:
    return select(func.count()).select_from(Treasure).where(condition).scalar_subquery()


def _counter(column) -> ColumnElement:
    return select(column).where(TreasureCounts.id == 1).scalar_subquery()


def list_total(kind: str, hidden: ColumnElement | None, filters: list, *, published: bool,
               unpublished: bool, gated: bool = False) -> ColumnElement:
    """How many treasures the list holds, as one scalar expression.

    Published and private ones are counted apart, each through an index;
    without owner or project filters the published ones (and, for admins,
    all of them) come from the counts row the triggers keep, rather than
    from a scan of every published row.
    """
    counters = not filters
    if not unpublished:
        hidden = None
    if counters and published and kind == ADMIN and not gated:
        return _counter(TreasureCounts.total)
    parts = []
    if published:
        if counters:
            parts.append(_counter(TreasureCounts.published))
        else:
            parts.append(_count(and_(Treasure.is_published.is_(True), *filters)))
    if hidden is not None:
        parts.append(_count(and_(Treasure.is_published.is_(False), hidden, *filters)))
    total = parts[0] if parts else literal(0)
    for part in parts[1:]:
        total = total + part
    return total


@dataclass(frozen=True)
class TreasureListing:
    """Which page of which treasures: the caller (kind and ids) and the filters."""

    kind: str
    uid: int | None
    tid: int | None
    page: int
    per_page: int
    owner_id: int | None = None
    project_id: int | None = None
    project_slug: str | None = None
    is_published: bool | None = None
    #: The caller has no second factor (see :func:`private`).
    gated: bool = False

    @property
    def params(self) -> dict:
        return {"uid": self.uid, "tid": self.tid, "owner": self.owner_id,
                "project_id": self.project_id, "slug": self.project_slug,
                "limit": self.per_page, "offset": (self.page - 1) * self.per_page}

    @property
    def shape(self) -> tuple[str, bool, str | None, bool | None, bool]:
        project = ("id" if self.project_id is not None
                   else "slug" if self.project_slug is not None else None)
        return self.kind, self.owner_id is not None, project, self.is_published, self.gated


@functools.cache
def list_statements(dialect: str, kind: str, owner: bool, project: str | None,
                    is_published: bool | None, gated: bool = False) -> tuple[CoreStatement, CoreStatement]:
    """The page statement and the total-only statement for one shape of list.

    Built and compiled once per shape (the caller kind, which filters are
    set, and whether the caller lacks a second factor), then run with ``:uid``, ``:tid``, ``:owner``, ``:project_id``,
    ``:slug``, ``:limit`` and ``:offset``.
    """
    filters: list[ColumnElement] = []
    if owner:
        filters.append(Treasure.owner_id == bindparam("owner", type_=Integer))
    if project == "id":
        filters.append(Treasure.project_id == bindparam("project_id", type_=Integer))
    elif project == "slug":
        slug_id = select(Project.id).where(Project.slug == bindparam("slug", type_=String))
        filters.append(Treasure.project_id == slug_id.scalar_subquery())
    hidden = private(kind, dialect, gated)
    total = list_total(kind, hidden, filters, published=is_published is not False,
                       unpublished=is_published is not True, gated=gated)
    published = Treasure.is_published.is_(True)
    if is_published is True or hidden is None:
        visible = published if is_published is not False else literal(False)
    elif is_published is False:
        visible = and_(Treasure.is_published.is_(False), hidden)
    else:
        visible = or_(published, hidden)
    page = (
        select(*TREASURE_COLUMNS, total.label("total"))
        .outerjoin(Project, Project.id == Treasure.project_id)
        .where(visible, *filters)
        .order_by(Treasure.created_at.desc(), Treasure.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return (CoreStatement(page, TreasureListRow),
            CoreStatement(select(total.label("total")), TotalRow))
