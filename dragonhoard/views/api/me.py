"""``GET /api/me``: who is calling, how, and with which scopes."""
from __future__ import annotations

from pyramid.view import view_config

from ...schemas.users import user_json
from ...security.permissions import Permission


@view_config(route_name="api.me", request_method="GET", renderer="json",
             permission=Permission.AUTHENTICATED)
def me(request):
    """Who is calling, how, and with which scopes (the email only with ``user:read``)."""
    identity = request.identity
    return {
        "user": user_json(identity, with_email="user:read" in identity.scopes),
        "auth": identity.via,
        "scopes": sorted(identity.scopes),
    }
