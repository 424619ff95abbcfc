"""``/api/projects``: projects, their members and their treasures."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...errors import Invalid, MfaRequired
from ...models import User
from ...resources import NotFound, path_id
from ...responses import json_response
from ...schemas import parse_json
from ...schemas.pagination import page_params
from ...schemas.shapes import member_answer, page_answer, project_answer
from ...schemas.treasures import MemberRole, ProjectCreate, ProjectEdit, TreasureCreate
from ...security.permissions import Permission
from ...services.projects import (
    create_project,
    delete_project,
    list_members,
    list_projects,
    remove_member,
    set_member_role,
    update_project,
)
from ...services.treasures import list_treasures
from .treasures import create_in, list_filters


@view_config(route_name="api.projects", request_method="GET", permission=Permission.PROJECT_LIST)
def projects_list(request):
    page, per_page = page_params(request)
    items, total = list_projects(request.dbsession, request.identity, page=page, per_page=per_page)
    return json_response(page_answer(items, page, per_page, total))


@view_config(route_name="api.projects", request_method="POST", renderer="json",
             permission=Permission.PROJECT_CREATE)
def project_create(request):
    body = parse_json(request, ProjectCreate)
    project = create_project(request.dbsession, request.identity.user_id, slug=body.slug,
                             name=body.name, description=body.description)
    request.response.status = 201
    return project_answer((project.slug, project.name, project.description, project.created_at,
                           "owner", project.require_mfa))


@view_config(route_name="api.project", request_method="GET", permission=Permission.PROJECT_VIEW)
def project_get(request):
    return json_response(request.context.to_json())


@view_config(route_name="api.project.change", request_method="PATCH", renderer="json",
             permission=Permission.PROJECT_ADMIN)
def project_edit(request):
    context = request.context
    changes = parse_json(request, ProjectEdit).model_dump(exclude_unset=True)
    if changes.get("require_mfa") and not request.identity.has_mfa:
        # Else the owner would lock themselves out of their own project.
        raise MfaRequired("Set up a second factor on your own account before requiring one"
                          " of the project's members (/account/two-factor).")
    update_project(request.dbsession, context.id, changes)
    data = context.to_json()
    data.update(changes)
    return data


@view_config(route_name="api.project.change", request_method="DELETE", permission=Permission.PROJECT_ADMIN)
def project_delete(request):
    delete_project(request.dbsession, request.context.id)
    return HTTPNoContent()


@view_config(route_name="api.project.members", request_method="GET",
             permission=Permission.PROJECT_VIEW)
def members_list(request):
    page, per_page = page_params(request)
    items, total = list_members(request.dbsession, request.context.id, page=page, per_page=per_page)
    return json_response(page_answer(items, page, per_page, total))


def _member_id(request) -> int:
    return path_id(request, "user_id")


@view_config(route_name="api.project.member", request_method="PUT", renderer="json",
             permission=Permission.PROJECT_ADMIN)
def member_put(request):
    body = parse_json(request, MemberRole)
    user_id = _member_id(request)
    user = request.dbsession.get(User, user_id)
    if user is None:
        raise NotFound()
    membership, added = set_member_role(request.dbsession, request.context.id, user_id, body.role)
    request.response.status = 201 if added else 200
    return member_answer(user_id, user.username, membership.role)


@view_config(route_name="api.project.member", request_method="DELETE",
             permission=Permission.PROJECT_ADMIN)
def member_delete(request):
    if not remove_member(request.dbsession, request.context.id, _member_id(request)):
        raise NotFound()
    return HTTPNoContent()


@view_config(route_name="api.project.treasures", request_method="GET",
             permission=Permission.PROJECT_VIEW)
def project_treasures(request):
    page, per_page = page_params(request)
    filters = list_filters(request)
    filters.pop("project_slug", None)
    items, total = list_treasures(request.hot, request.identity,
                                  page=page, per_page=per_page, project_id=request.context.id,
                                  **filters)
    return json_response(page_answer(items, page, per_page, total))


@view_config(route_name="api.project.treasures.create", request_method="POST", renderer="json",
             permission=Permission.PROJECT_TREASURE_CREATE)
def project_treasure_create(request):
    body = parse_json(request, TreasureCreate)
    if body.project is not None and body.project != request.context.slug:
        raise Invalid({"project": "Create it in this project, or leave project out."})
    return create_in(request, body, request.context)
