"""``/api/users``: registration (and, with the policy issue, profiles)."""
from __future__ import annotations

from pyramid.view import view_config

from ...schemas import parse_json
from ...schemas.users import Registration, user_json
from ...security.permissions import Permission
from ...services.users import register_user


@view_config(route_name="api.users", request_method="POST", renderer="json",
             permission=Permission.PUBLIC)
def register(request):
    """201 with the new user; it does not log in."""
    body = parse_json(request, Registration)
    user = register_user(request.dbsession, request.registry.dh_passwords,
                         email=body.email, username=body.username, password=body.password)
    request.bookkeeping.audit("user:registered", user.id)
    request.response.status = 201
    return user_json(user, with_email=True)
