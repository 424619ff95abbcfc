"""``/api/treasures``: treasures the caller may see, and their owners' changes."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...errors import Invalid
from ...models.meta import MAX_ID
from ...resources.projects import SLUG, load_project
from ...responses import json_response
from ...schemas import parse_json
from ...schemas.pagination import WHOLE_NUMBER, page_params
from ...schemas.shapes import page_answer, treasure_answer_of
from ...schemas.treasures import TreasureCreate, TreasureEdit
from ...security.checks import may_view, require, require_account_factor
from ...security.permissions import Permission
from ...services.treasures import create_treasure, delete_treasure, list_treasures, update_treasure


def list_filters(request) -> dict:
    """``owner``, ``project`` and ``is_published``: 422 when malformed."""
    filters: dict = {}
    owner = request.GET.get("owner")
    if owner is not None:
        if not WHOLE_NUMBER.fullmatch(owner) or int(owner) > MAX_ID:
            raise Invalid({"owner": "A user id (a whole number)."}, "The query is not valid.")
        filters["owner_id"] = int(owner)
    if "project" in request.GET:
        # A slug that cannot exist names no project: an empty list, no query.
        slug = request.GET["project"]
        filters["project_slug"] = slug if SLUG.match(slug) else ""
    published = request.GET.get("is_published")
    if published is not None:
        if published not in ("true", "false"):
            raise Invalid({"is_published": "true or false."}, "The query is not valid.")
        filters["is_published"] = published == "true"
    return filters


@view_config(route_name="api.treasures", request_method="GET", permission=Permission.PUBLIC)
def treasures_list(request):
    require_account_factor(request)
    page, per_page = page_params(request)
    items, total = list_treasures(request.hot, request.identity,
                                  page=page, per_page=per_page, **list_filters(request))
    return json_response(page_answer(items, page, per_page, total))


def create_in(request, body: TreasureCreate, project) -> dict:
    fields = body.model_dump(exclude={"project"}, exclude_unset=True)
    treasure = create_treasure(request.dbsession, request.identity.user_id,
                               project.id if project else None, fields)
    request.response.status = 201
    return treasure_answer_of(treasure, project.slug if project else None)


@view_config(route_name="api.treasures.create", request_method="POST", renderer="json",
             permission=Permission.TREASURE_CREATE)
def treasure_create(request):
    body = parse_json(request, TreasureCreate)
    project = None
    if body.project is not None:
        project = load_project(request, body.project)
        # A project the caller may not see is as unknown as one that does not exist.
        if project is None or not may_view(request, project):
            raise Invalid({"project": "No such project."})
        require(request, Permission.PROJECT_TREASURE_CREATE, project)
    return create_in(request, body, project)


@view_config(route_name="api.treasure", request_method="GET", permission=Permission.TREASURE_VIEW)
def treasure_get(request):
    # The context row is the answer: no second statement.
    return json_response(request.context.to_json())


@view_config(route_name="api.treasure.change", request_method="PATCH", renderer="json",
             permission=Permission.TREASURE_EDIT)
def treasure_edit(request):
    context = request.context
    changes = parse_json(request, TreasureEdit).model_dump(exclude_unset=True)
    update_treasure(request.dbsession, context.id, changes)
    data = context.to_json()
    data.update(changes)
    return data


@view_config(route_name="api.treasure.change", request_method="DELETE", permission=Permission.TREASURE_DELETE)
def treasure_delete(request):
    delete_treasure(request.dbsession, request.context.id)
    return HTTPNoContent()
