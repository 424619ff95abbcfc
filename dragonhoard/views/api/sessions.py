"""``/api/sessions``: the caller's login sessions (session only)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import forget
from pyramid.view import view_config

from ...resources import NotFound, path_id
from ...schemas.pagination import page_json, page_params
from ...security.permissions import Permission
from ...services.sessions import list_sessions, revoke_session, session_json
from ...services.users import revoke_sessions


@view_config(route_name="api.sessions", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def sessions_list(request):
    page, per_page = page_params(request)
    identity = request.identity
    idle = request.settings.session_idle_seconds
    rows, total = list_sessions(request.dbsession, identity.user_id, idle, page=page, per_page=per_page)
    items = [session_json(row, identity.session.id, idle) for row in rows]
    return page_json(items, page, per_page, total)


@view_config(route_name="api.session", request_method="DELETE", permission=Permission.ACCOUNT)
def session_revoke(request):
    identity = request.identity
    session_id = path_id(request)
    if not revoke_session(request.dbsession, identity.user_id, session_id,
                          request.settings.session_idle_seconds):
        raise NotFound()
    request.bookkeeping.audit("session:revoked", identity.user_id, session_id=session_id)
    headers = forget(request) if session_id == identity.session.id else []
    return HTTPNoContent(headers=headers)


@view_config(route_name="api.sessions", request_method="DELETE", permission=Permission.ACCOUNT)
def sessions_revoke_others(request):
    identity = request.identity
    count = revoke_sessions(request.dbsession, identity.user_id, keep_session_id=identity.session.id)
    request.bookkeeping.audit("session:revoked", identity.user_id, others=True, count=count)
    return HTTPNoContent()
