"""Projects: the item resource, loaded with the caller's membership in one statement."""
from __future__ import annotations

import re

from ..db.queries.projects import ProjectContextRow
from ..models.project import SLUG_PATTERN
from ..schemas.shapes import project_answer
from ..security.identity import Identity
from ..security.permissions import Permission, build_acl
from . import NotFound, caller_of
from .treasures import token_reaches

PROJECT_PERMISSIONS = (
    Permission.PROJECT_VIEW,
    Permission.PROJECT_ADMIN,
    Permission.PROJECT_TREASURE_CREATE,
)

SLUG = re.compile(SLUG_PATTERN)


class ProjectResource:
    __parent__ = None
    view_permission = Permission.PROJECT_VIEW

    def __init__(self, row: ProjectContextRow, identity: Identity | None) -> None:
        self.row = row
        self.id = self.project_id = row.id
        self.slug = row.slug
        self.name = row.name
        self.caller_role = row.role
        self.require_mfa = row.require_mfa
        self.in_token_reach = token_reaches(identity, project_id=row.id, owner_id=None,
                                            listed=row.listed is not None)
        self.__name__ = row.slug

    @property
    def __acl__(self) -> list:
        return build_acl(PROJECT_PERMISSIONS, project_id=self.id)

    def to_json(self) -> dict:
        return project_answer(self.row)


def load_project(request, slug: str) -> ProjectResource | None:
    """The project ``slug`` as the caller sees it (one statement), or None.
    A slug no project can have is not looked up."""
    if not SLUG.match(slug):
        return None
    identity = request.identity
    row = request.hot.project(slug, caller_of(identity))
    return None if row is None else ProjectResource(row, identity)


def project_factory(request) -> ProjectResource:
    project = load_project(request, request.matchdict["slug"])
    if project is None:
        raise NotFound()
    return project
