"""Treasures: which a caller may see in a list, and the writes."""
from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import FastPath, TreasureListing
from ..db.queries.treasures import ADMIN, MEMBER, NOBODY, RESTRICTED, RESTRICTED_ADMIN
from ..models import Treasure
from ..schemas.shapes import treasure_answer
from ..security.identity import Identity


def caller_kind(identity: Identity | None) -> str:
    """What the caller may see besides published treasures, as a kind of list
    (``db.queries.treasures.private`` turns it into SQL)."""
    if identity is None or "treasure:read" not in identity.scopes:
        return NOBODY
    if identity.is_restricted:
        return RESTRICTED_ADMIN if identity.admin_rights else RESTRICTED
    return ADMIN if identity.admin_rights else MEMBER


def list_treasures(hot: FastPath, identity: Identity | None, *, page: int, per_page: int,
                   owner_id: int | None = None, project_slug: str | None = None,
                   project_id: int | None = None,
                   is_published: bool | None = None) -> tuple[list[dict], int]:
    """A page of the treasures the caller may view, newest first, as answers,
    and how many there are: one statement."""
    listing = TreasureListing(
        kind=caller_kind(identity),
        uid=identity.user_id if identity else None,
        tid=identity.token.id if identity and identity.token else None,
        page=page, per_page=per_page, owner_id=owner_id, project_id=project_id,
        project_slug=project_slug, is_published=is_published,
        gated=identity is not None and not identity.has_mfa,
    )
    rows, total = hot.treasure_page(listing)
    return [treasure_answer(row) for row in rows], total


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


def delete_treasure(dbsession: Session, treasure_id: int) -> None:
    dbsession.execute(delete(Treasure).where(Treasure.id == treasure_id))
