"""Treasures: the item resource, loaded with the caller's membership in one statement."""
from __future__ import annotations

from ..db.queries.treasures import TreasureContextRow
from ..schemas.shapes import treasure_answer
from ..security.identity import Identity
from ..security.permissions import Permission, build_acl
from . import NotFound, caller_of, path_id

TREASURE_PERMISSIONS = (Permission.TREASURE_VIEW, Permission.TREASURE_EDIT, Permission.TREASURE_DELETE)


def token_reaches(identity: Identity | None, *, project_id: int | None, owner_id: int | None,
                  listed: bool) -> bool:
    """Whether a project-restricted token reaches a resource: its listed
    projects, and its owner's project-less treasures (DESIGN section 5)."""
    if identity is None or not identity.is_restricted:
        return True
    if project_id is None:
        return owner_id is None or owner_id == identity.user_id
    return listed


class TreasureResource:
    __parent__ = None
    view_permission = Permission.TREASURE_VIEW

    def __init__(self, row: TreasureContextRow, identity: Identity | None) -> None:
        self.row = row
        self.id = row.id
        self.owner_id = row.owner_id
        self.project_id = row.project_id
        self.project_slug = row.project
        self.is_published = row.is_published
        self.caller_role = row.caller_role
        # The project's rule (DESIGN section 14); a project-less treasure has none.
        self.require_mfa = bool(row.require_mfa)
        self.in_token_reach = token_reaches(identity, project_id=row.project_id,
                                            owner_id=row.owner_id, listed=row.listed is not None)
        self.__name__ = str(row.id)

    @property
    def __acl__(self) -> list:
        return build_acl(TREASURE_PERMISSIONS, owner_id=self.owner_id, project_id=self.project_id,
                         published=self.is_published)

    def to_json(self) -> dict:
        return treasure_answer(self.row)


def load_treasure(request, treasure_id: int) -> TreasureResource | None:
    identity = request.identity
    row = request.hot.treasure(treasure_id, caller_of(identity))
    return None if row is None else TreasureResource(row, identity)


def treasure_factory(request) -> TreasureResource:
    treasure = load_treasure(request, path_id(request))
    if treasure is None:
        raise NotFound()
    return treasure

