"""``/api/sessions``: the caller's login sessions (session only)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import forget
from pyramid.view import view_config

from ...resources import NotFound, path_id
from ...schemas.pagination import page_params
from ...schemas.shapes import login_session_answer, page_answer
from ...security.permissions import Permission
from ...services.sessions import list_sessions, revoke_other_sessions, revoke_session


@view_config(route_name="api.sessions", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def sessions_list(request):
    page, per_page = page_params(request)
    identity = request.identity
    idle = request.settings.session_idle_seconds
    rows, total = list_sessions(request.dbsession, identity.user_id, idle, page=page, per_page=per_page)
    items = [login_session_answer(row, identity.session.id, idle) for row in rows]
    return page_answer(items, page, per_page, total)


@view_config(route_name="api.session", request_method="DELETE", permission=Permission.ACCOUNT)
def session_revoke(request):
    identity = request.identity
    session_id = path_id(request)
    if not revoke_session(request.dbsession, request.bookkeeping, identity.user_id, session_id,
                          request.settings.session_idle_seconds):
        raise NotFound()
    headers = forget(request) if session_id == identity.session.id else []
    return HTTPNoContent(headers=headers)


@view_config(route_name="api.sessions", request_method="DELETE", permission=Permission.ACCOUNT)
def sessions_revoke_others(request):
    identity = request.identity
    revoke_other_sessions(request.dbsession, request.bookkeeping, identity.user_id,
                          identity.session.id)
    return HTTPNoContent()
