"""``GET /api/events``: the caller's own security log, newest first (session only)."""
from __future__ import annotations

from pyramid.view import view_config

from ...schemas.pagination import page_params
from ...schemas.shapes import event_answer, page_answer
from ...security.permissions import Permission
from ...services.events import list_events


@view_config(route_name="api.events", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def events_list(request):
    page, per_page = page_params(request)
    rows, total = list_events(request.dbsession, request.identity.user_id, page=page, per_page=per_page)
    return page_answer([event_answer(row) for row in rows], page, per_page, total)
