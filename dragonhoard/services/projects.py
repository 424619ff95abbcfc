"""Projects and their members: lists the caller may see, the writes, and the owner rules."""
from __future__ import annotations

from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db.queries.projects import PROJECT_COLUMNS
from ..errors import Conflict
from ..models import ApiTokenProject, Membership, Project, User
from ..models.locks import lock_row
from ..schemas.shapes import member_answer, project_answer
from ..security.identity import Identity
from .pagination import paginate


def projects_query(identity: Identity) -> Select:
    """The caller's projects with their role, newest first; an admin's list
    holds every project (role null where not a member); a restricted
    token's, its own."""
    query = select(*PROJECT_COLUMNS)
    mine = and_(Membership.project_id == Project.id, Membership.user_id == identity.user_id)
    if identity.admin_rights:
        query = query.select_from(Project).outerjoin(Membership, mine)
    else:
        query = query.select_from(Project).join(Membership, mine)
    if identity.is_restricted:
        listed = select(ApiTokenProject.project_id).where(ApiTokenProject.token_id == identity.token.id)
        query = query.where(Project.id.in_(listed))
    return query.order_by(Project.created_at.desc(), Project.id.desc())


def list_projects(dbsession: Session, identity: Identity, *, page: int, per_page: int) -> tuple[list, int]:
    rows, total = paginate(dbsession, projects_query(identity), page=page, per_page=per_page)
    return [project_answer(row) for row in rows], total


def create_project(dbsession: Session, creator_id: int, *, slug: str, name: str,
                   description: str) -> Project:
    """A new project; its creator starts as owner. 409 when the slug is taken."""
    if dbsession.scalar(select(Project.id).where(Project.slug == slug)) is not None:
        raise Conflict("A project with this slug exists.", "slug")
    project = Project(slug=slug, name=name, description=description, created_at=clock.now())
    dbsession.add(project)
    dbsession.flush()
    dbsession.add(Membership(project_id=project.id, user_id=creator_id, role="owner"))
    dbsession.flush()
    return project


def members_query(project_id: int) -> Select:
    return (
        select(Membership.user_id, User.username, Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.project_id == project_id)
        .order_by(Membership.created_at.desc(), Membership.user_id.desc())
    )


def list_members(dbsession: Session, project_id: int, *, page: int, per_page: int) -> tuple[list, int]:
    rows, total = paginate(dbsession, members_query(project_id), page=page, per_page=per_page)
    return [member_answer(*row) for row in rows], total


def update_project(dbsession: Session, project_id: int, changes: dict) -> None:
    if changes:
        dbsession.execute(update(Project).where(Project.id == project_id).values(**changes))


def delete_project(dbsession: Session, project_id: int) -> None:
    """Its treasures and memberships go with it (ON DELETE CASCADE)."""
    dbsession.execute(delete(Project).where(Project.id == project_id))


def _lock_project(dbsession: Session, project_id: int) -> None:
    # Two owners demoting each other at once would each count the other as
    # the remaining owner; the lock makes them take turns, and the second
    # counts after the first committed (DESIGN section 13).
    lock_row(dbsession, Project, project_id)


def _owners(dbsession: Session, project_id: int) -> int:
    return dbsession.scalar(
        select(func.count()).where(Membership.project_id == project_id, Membership.role == "owner")
    )


def set_member_role(dbsession: Session, project_id: int, user_id: int, role: str) -> tuple[Membership, bool]:
    """Add ``user_id`` with ``role`` or change their role; (membership, added)."""
    _lock_project(dbsession, project_id)
    membership = dbsession.get(Membership, (project_id, user_id), populate_existing=True)
    if membership is None:
        membership = Membership(project_id=project_id, user_id=user_id, role=role,
                                created_at=clock.now())
        dbsession.add(membership)
        dbsession.flush()
        return membership, True
    if membership.role == "owner" and role != "owner" and _owners(dbsession, project_id) <= 1:
        raise Conflict("A project keeps at least one owner; make someone else owner first.")
    membership.role = role
    dbsession.flush()
    return membership, False


def remove_member(dbsession: Session, project_id: int, user_id: int) -> bool:
    """Remove the membership; False when there was none. 409 for the last owner."""
    _lock_project(dbsession, project_id)
    membership = dbsession.get(Membership, (project_id, user_id), populate_existing=True)
    if membership is None:
        return False
    if membership.role == "owner" and _owners(dbsession, project_id) <= 1:
        raise Conflict("A project keeps at least one owner; make someone else owner first.")
    dbsession.execute(
        delete(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    )
    return True
