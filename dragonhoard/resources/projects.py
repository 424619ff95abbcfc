"""Projects: the item resource, loaded with the caller's membership in one statement."""
from __future__ import annotations

import re

from ..models.hot import HotStatement
from ..models.project import SLUG_PATTERN
from ..security.identity import Identity
from ..security.permissions import Permission, build_acl
from . import NotFound, Root, should_load
from .treasures import identity_params, token_reaches

PROJECT_CONTEXT = HotStatement(
    """
    SELECT p.id, p.slug, p.name, p.description, p.created_at, m.role, tp.project_id
    FROM projects p
    LEFT JOIN memberships m ON m.project_id = p.id AND m.user_id = :user_id
    LEFT JOIN api_token_projects tp ON tp.project_id = p.id AND tp.token_id = :token_id
    WHERE p.slug = :slug
    """
)

PROJECT_PERMISSIONS = (
    Permission.PROJECT_VIEW,
    Permission.PROJECT_ADMIN,
    Permission.PROJECT_TREASURE_CREATE,
)


class ProjectResource:
    __parent__ = None
    view_permission = Permission.PROJECT_VIEW

    def __init__(self, row: tuple, dialect, identity: Identity | None) -> None:
        (self.id, self.slug, self.name, self.description, created_at, self.caller_role,
         listed) = row  # fmt: skip
        self.project_id = self.id
        self.created_at = dialect.timestamp(created_at)
        self.in_token_reach = token_reaches(identity, project_id=self.id, owner_id=None,
                                            listed=listed is not None)
        self.__name__ = self.slug

    @property
    def __acl__(self) -> list:
        return build_acl(PROJECT_PERMISSIONS, project_id=self.id)

    def to_json(self) -> dict:
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at,
            "role": self.caller_role,
        }


SLUG = re.compile(SLUG_PATTERN)


def load_project(request, slug: str) -> ProjectResource | None:
    """The project ``slug`` as the caller sees it (one statement), or None.
    A slug no project can have is not looked up."""
    if not SLUG.match(slug):
        return None
    identity = request.identity
    dialect = request.registry.dh_dialect
    params = identity_params(identity)
    params["slug"] = slug
    row = PROJECT_CONTEXT.one(request.db_cursor, dialect, params)
    return None if row is None else ProjectResource(row, dialect, identity)


def project_factory(request) -> ProjectResource | Root:
    if not should_load(request):
        return Root(request)
    project = load_project(request, request.matchdict["slug"])
    if project is None:
        raise NotFound()
    return project
