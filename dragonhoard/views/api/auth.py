"""The app's own JavaScript: JSON login, logout and sudo (sessions only)."""
from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...errors import BadCredentials, Throttled
from ...models import User
from ...schemas import parse_json
from ...schemas.shapes import user_answer
from ...schemas.users import Login, SudoBody
from ...security.csrf import check_same_origin
from ...security.login import confirm_password, log_in, log_out
from ...security.permissions import Permission
from ...security.sudo import open_sudo


@view_config(route_name="api.login", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login(request):
    """No CSRF token (nobody is logged in yet), but JSON only and same origin
    only, so that no cross-site form can log a victim in."""
    check_same_origin(request)
    body = parse_json(request, Login)
    outcome = log_in(request, body.email, body.password, via="json")
    if outcome.throttled:
        raise Throttled(outcome.retry_after)
    if not outcome.logged_in:
        raise BadCredentials()
    request.response.headers.extend(outcome.headers)
    return {"user": user_answer(outcome.user, with_email=True), "csrf_token": get_csrf_token(request)}


@view_config(route_name="api.logout", request_method="POST", permission=Permission.ACCOUNT)
def logout(request):
    return HTTPNoContent(headers=log_out(request))


@view_config(route_name="api.sudo", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def sudo(request):
    body = parse_json(request, SudoBody)
    user = request.dbsession.get(User, request.identity.user_id)
    confirm_password(request, user, body.password, via="sudo")
    return {"sudo_until": open_sudo(request)}
