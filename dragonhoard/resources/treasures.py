"""Treasures: the item resource, loaded with the caller's membership in one statement."""
from __future__ import annotations

from ..models.hot import HotStatement
from ..security.identity import Identity
from ..security.permissions import Permission, build_acl
from . import NotFound, Root, path_id, should_load

#: The context of /api/treasures/{id}: the treasure, its project's slug, the
#: caller's role in that project, and whether a restricted token lists it.
TREASURE_CONTEXT = HotStatement(
    """
    SELECT t.id, t.owner_id, t.project_id, t.name, t.description, t.value, t.cool_factor,
           t.is_published, t.plundered_at, t.created_at, p.slug, m.role, tp.project_id
    FROM treasures t
    LEFT JOIN projects p ON p.id = t.project_id
    LEFT JOIN memberships m ON m.project_id = t.project_id AND m.user_id = :user_id
    LEFT JOIN api_token_projects tp ON tp.project_id = t.project_id AND tp.token_id = :token_id
    WHERE t.id = :id
    """
)

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


def identity_params(identity: Identity | None) -> dict:
    """The caller's ids for the context statements (None: matches nothing)."""
    if identity is None:
        return {"user_id": None, "token_id": None}
    token_id = identity.token.id if identity.token is not None else None
    return {"user_id": identity.user_id, "token_id": token_id}


class TreasureResource:
    __parent__ = None
    view_permission = Permission.TREASURE_VIEW

    def __init__(self, row: tuple, dialect, identity: Identity | None) -> None:
        (self.id, self.owner_id, self.project_id, self.name, self.description, self.value,
         self.cool_factor, is_published, plundered_at, created_at, self.project_slug,
         self.caller_role, listed) = row  # fmt: skip
        self.is_published = bool(is_published)
        self.plundered_at = dialect.timestamp(plundered_at)
        self.created_at = dialect.timestamp(created_at)
        self.in_token_reach = token_reaches(identity, project_id=self.project_id,
                                            owner_id=self.owner_id, listed=listed is not None)
        self.__name__ = str(self.id)

    @property
    def __acl__(self) -> list:
        return build_acl(TREASURE_PERMISSIONS, owner_id=self.owner_id, project_id=self.project_id,
                         published=self.is_published)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "value": self.value,
            "cool_factor": self.cool_factor,
            "is_published": self.is_published,
            "owner_id": self.owner_id,
            "project": self.project_slug,
            "plundered_at": self.plundered_at,
            "created_at": self.created_at,
        }


def treasure_factory(request) -> TreasureResource | Root:
    if not should_load(request):
        return Root(request)
    identity = request.identity
    dialect = request.registry.dh_dialect
    params = identity_params(identity)
    params["id"] = path_id(request)
    row = TREASURE_CONTEXT.one(request.db_cursor, dialect, params)
    if row is None:
        raise NotFound()
    return TreasureResource(row, dialect, identity)
