"""Projects: the item context, loaded with the caller's membership."""
from __future__ import annotations

from sqlalchemy import String, bindparam, select

from ...models import ApiTokenProject, Membership, Project
from ...schemas import shapes
from ..rows import row_type
from ..statements import CoreStatement
from . import with_caller

#: The project shape's columns, in its order (``role`` is the caller's).
PROJECT_COLUMNS = (Project.slug, Project.name, Project.description, Project.created_at,
                   Membership.role.label("role"), Project.require_mfa)

ProjectContextRow = row_type("ProjectContextRow", shapes.Project, [
    ("id", int), ("listed", int | None),
])

PROJECT_CONTEXT = CoreStatement(
    with_caller(select(*PROJECT_COLUMNS, Project.id, ApiTokenProject.project_id.label("listed"))
                .select_from(Project), Project.id)
    .where(Project.slug == bindparam("slug", type_=String)),
    ProjectContextRow,
)
