"""The app's own JavaScript: JSON login, logout and sudo (sessions only)."""
from __future__ import annotations

from datetime import timedelta

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import forget, remember
from pyramid.view import view_config
from sqlalchemy import update

from ... import clock
from ...models import LoginSession, User
from ...responses import json_error
from ...schemas import ApiError, parse_json
from ...schemas.users import Login, SudoBody, user_json
from ...security.csrf import check_same_origin
from ...security.login import check_password, confirm_password
from ...security.permissions import Permission
from ..errors import CHALLENGE


def too_many_attempts(retry_after: int):
    return json_error(
        429, "too_many_requests", "Too many failed attempts; try again later.",
        headers={"Retry-After": str(retry_after)},
    )


@view_config(route_name="api.login", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login(request):
    """No CSRF token (nobody is logged in yet), but JSON only and same origin
    only, so that no cross-site form can log a victim in."""
    check_same_origin(request)
    body = parse_json(request, Login)
    bookkeeping = request.bookkeeping
    check = check_password(request, body.email, body.password)
    user_id = check.user.id if check.user else None
    if check.throttled:
        bookkeeping.audit("login:throttled", user_id, via="json")
        return too_many_attempts(check.retry_after)
    if not check.ok:
        bookkeeping.audit("login:failure", user_id, via="json")
        return json_error(401, "invalid_credentials", "The email or the password is wrong.",
                          headers={"WWW-Authenticate": CHALLENGE})
    user = check.user
    request.response.headers.extend(remember(request, user.id, user=user))
    bookkeeping.audit("login:success", user.id, via="json", session_id=request.identity.session.id)
    return {"user": user_json(user, with_email=True), "csrf_token": get_csrf_token(request)}


@view_config(route_name="api.logout", request_method="POST", permission=Permission.ACCOUNT)
def logout(request):
    identity = request.identity
    headers = forget(request)
    request.bookkeeping.audit("logout", identity.user_id, session_id=identity.session.id)
    return HTTPNoContent(headers=headers)


@view_config(route_name="api.sudo", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def sudo(request):
    identity = request.identity
    body = parse_json(request, SudoBody)
    user = request.dbsession.get(User, identity.user_id)
    refusal = confirm_password(request, user, body.password, via="sudo")
    if refusal:
        raise ApiError(refusal.status, refusal.error, refusal.message, headers=refusal.headers)
    return {"sudo_until": open_sudo(request)}


def open_sudo(request):
    """Open the session's sudo window from now; log it."""
    identity = request.identity
    until = clock.now() + timedelta(seconds=request.settings.sudo_seconds)
    request.dbsession.execute(
        update(LoginSession).where(LoginSession.id == identity.session.id).values(sudo_until=until)
    )
    identity.session.sudo_until = until
    request.bookkeeping.audit("sudo:success", identity.user_id, session_id=identity.session.id)
    return until
