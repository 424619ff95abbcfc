"""Treasures: what a caller may see in a list (in SQL), and the writes."""
from __future__ import annotations

import functools

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from .. import clock
from ..models import ApiTokenProject, Membership, Project, Treasure, TreasureCounts
from ..models.hot import CompiledQuery, Dialect
from ..security.identity import Identity

TREASURE_COLUMNS = (
    Treasure.id, Treasure.name, Treasure.description, Treasure.value, Treasure.cool_factor,
    Treasure.is_published, Treasure.owner_id, Project.slug, Treasure.plundered_at,
    Treasure.created_at,
)
JSON_KEYS = ("id", "name", "description", "value", "cool_factor", "is_published", "owner_id",
             "project", "plundered_at", "created_at")


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


#: What a caller may see besides published treasures (see :func:`caller_kind`).
NOBODY, MEMBER, ADMIN, RESTRICTED, RESTRICTED_ADMIN = (
    "nobody", "member", "admin", "restricted", "restricted-admin")


def caller_kind(identity: Identity | None) -> str:
    if identity is None or "treasure:read" not in identity.scopes:
        return NOBODY
    if identity.is_restricted:
        return RESTRICTED_ADMIN if identity.admin_rights else RESTRICTED
    return ADMIN if identity.admin_rights else MEMBER


def private(kind: str, dialect: str) -> ColumnElement | None:
    """The unpublished treasures a caller of this kind may view (None: none),
    for the caller ``:uid`` and their token ``:tid``.

    The SQL twin of the treasure ACL (resources/treasures.py): with
    ``treasure:read``, the caller's own, their projects' and (admin rights)
    everyone's, within a restricted token's reach. The permission-table walk
    and the list tests check that lists and items agree.
    """
    if kind == NOBODY:
        return None
    if kind == ADMIN:
        return true()
    uid = bindparam("uid", type_=Integer)
    member_of = select(Membership.project_id).where(Membership.user_id == uid)
    mine = or_(Treasure.owner_id == uid, _project_in(member_of, dialect))
    if kind == MEMBER:
        return mine
    listed = select(ApiTokenProject.project_id).where(
        ApiTokenProject.token_id == bindparam("tid", type_=Integer))
    reach = or_(and_(Treasure.project_id.is_(None), Treasure.owner_id == uid),
                _project_in(listed, dialect))
    return reach if kind == RESTRICTED_ADMIN else and_(reach, mine)


def _count(condition: ColumnElement) -> ColumnElement:
    return select(func.count()).select_from(Treasure).where(condition).scalar_subquery()


def _counter(column) -> ColumnElement:
    return select(column).where(TreasureCounts.id == 1).scalar_subquery()


def list_total(kind: str, hidden: ColumnElement | None, filters: list, *, published: bool,
               unpublished: bool) -> ColumnElement:
    """How many treasures the list holds, as one scalar expression.

    Published and private ones are counted apart, each through an index;
    without owner or project filters the published ones (and, for admins,
    all of them) come from the counts row the triggers keep, rather than
    from a scan of every published row.
    """
    counters = not filters
    if not unpublished:
        hidden = None
    if counters and published and kind == ADMIN:
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


@functools.cache
def list_queries(dialect: str, kind: str, owner: bool, project: str | None,
                 is_published: bool | None) -> tuple[CompiledQuery, CompiledQuery]:
    """The page statement and the total-only statement for one shape of list.

    Built and compiled once per shape (the caller kind and which filters are
    set), then run with ``:uid``, ``:tid``, ``:owner``, ``:project_id``,
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
    hidden = private(kind, dialect)
    total = list_total(kind, hidden, filters, published=is_published is not False,
                       unpublished=is_published is not True)
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
    return CompiledQuery(page), CompiledQuery(select(total.label("total")))


def list_treasures(cursor, dialect: Dialect, identity: Identity | None, *, page: int,
                   per_page: int, owner_id: int | None = None, project_slug: str | None = None,
                   project_id: int | None = None, is_published: bool | None = None) -> tuple[list, int]:
    """A page of the treasures the caller may view, newest first, and how many
    there are: one statement on the request's hot cursor."""
    project = "id" if project_id is not None else "slug" if project_slug is not None else None
    kind = caller_kind(identity)
    page_query, total_query = list_queries(dialect.name, kind, owner_id is not None, project,
                                           is_published)
    params = {
        "uid": identity.user_id if identity else None,
        "tid": identity.token.id if identity and identity.token else None,
        "owner": owner_id, "project_id": project_id, "slug": project_slug,
        "limit": per_page, "offset": (page - 1) * per_page,
    }
    rows = page_query.all(cursor, dialect, params)
    if rows:
        total = rows[0][-1]
    elif page == 1:
        total = 0
    else:  # past the last page: no row carried the total
        total = total_query.all(cursor, dialect, params)[0][0]
    items = [dict(zip(JSON_KEYS, row, strict=False)) for row in rows]
    if dialect.name == "sqlite":  # text timestamps, integer booleans
        ts = dialect.timestamp
        for item in items:
            item["is_published"] = bool(item["is_published"])
            item["plundered_at"] = ts(item["plundered_at"])
            item["created_at"] = ts(item["created_at"])
    return items, total


def treasure_json(treasure: Treasure, project_slug: str | None) -> dict:
    return {
        "id": treasure.id,
        "name": treasure.name,
        "description": treasure.description,
        "value": treasure.value,
        "cool_factor": treasure.cool_factor,
        "is_published": treasure.is_published,
        "owner_id": treasure.owner_id,
        "project": project_slug,
        "plundered_at": treasure.plundered_at,
        "created_at": treasure.created_at,
    }


def create_treasure(dbsession: Session, owner_id: int, project_id: int | None, fields: dict) -> Treasure:
    now = clock.now()
    treasure = Treasure(owner_id=owner_id, project_id=project_id, created_at=now, **fields)
    if treasure.plundered_at is None:
        treasure.plundered_at = now
    dbsession.add(treasure)
    dbsession.flush()
    return treasure


def update_treasure(dbsession: Session, treasure_id: int, changes: dict) -> None:
    if changes:
        dbsession.execute(update(Treasure).where(Treasure.id == treasure_id).values(**changes))

