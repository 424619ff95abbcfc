"""``GET /api/me``: who is calling, how, and with which scopes."""
from __future__ import annotations

from pyramid.view import view_config

from ...schemas.shapes import me_answer
from ...security.permissions import Permission


@view_config(route_name="api.me", request_method="GET", renderer="json",
             permission=Permission.WHOAMI)
def me(request):
    return me_answer(request.identity)
