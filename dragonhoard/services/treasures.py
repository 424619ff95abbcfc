"""Treasures: what a caller may see in a list (in SQL), and the writes."""
from __future__ import annotations

from sqlalchemy import Select, and_, or_, select, true, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import ApiTokenProject, Membership, Project, Treasure
from ..security.identity import Identity
from .pagination import paginate

TREASURE_COLUMNS = (
    Treasure.id, Treasure.name, Treasure.description, Treasure.value, Treasure.cool_factor,
    Treasure.is_published, Treasure.owner_id, Project.slug, Treasure.plundered_at,
    Treasure.created_at,
)
JSON_KEYS = ("id", "name", "description", "value", "cool_factor", "is_published", "owner_id",
             "project", "plundered_at", "created_at")


def token_reach(identity: Identity | None):
    """The treasures a restricted token reaches (DESIGN section 5); TRUE otherwise."""
    if identity is None or not identity.is_restricted:
        return true()
    listed = select(ApiTokenProject.project_id).where(ApiTokenProject.token_id == identity.token.id)
    return or_(
        and_(Treasure.project_id.is_(None), Treasure.owner_id == identity.user_id),
        Treasure.project_id.in_(listed),
    )


def visible(identity: Identity | None):
    """The SQL twin of the treasure ACL: published ones for anyone; with
    ``treasure:read``, also the caller's own, their projects' and (admins)
    everyone's, within a restricted token's reach. Kept beside the ACL's
    table test, which checks lists and items agree."""
    if identity is None or "treasure:read" not in identity.scopes:
        return Treasure.is_published.is_(True)
    if identity.admin_rights:
        private = true()
    else:
        member_of = select(Membership.project_id).where(Membership.user_id == identity.user_id)
        private = or_(Treasure.owner_id == identity.user_id, Treasure.project_id.in_(member_of))
    return or_(Treasure.is_published.is_(True), and_(token_reach(identity), private))


def treasure_query(identity: Identity | None) -> Select:
    return (
        select(*TREASURE_COLUMNS)
        .outerjoin(Project, Project.id == Treasure.project_id)
        .where(visible(identity))
        .order_by(Treasure.created_at.desc(), Treasure.id.desc())
    )


def list_treasures(dbsession: Session, identity: Identity | None, *, page: int, per_page: int,
                   owner_id: int | None = None, project_slug: str | None = None,
                   project_id: int | None = None, is_published: bool | None = None) -> tuple[list, int]:
    query = treasure_query(identity)
    if owner_id is not None:
        query = query.where(Treasure.owner_id == owner_id)
    if project_id is not None:
        query = query.where(Treasure.project_id == project_id)
    elif project_slug is not None:
        query = query.where(Project.slug == project_slug)
    if is_published is not None:
        query = query.where(Treasure.is_published.is_(is_published))
    rows, total = paginate(dbsession, query, page=page, per_page=per_page)
    return [dict(zip(JSON_KEYS, row, strict=True)) for row in rows], total


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
