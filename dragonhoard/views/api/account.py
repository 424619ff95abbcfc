"""``POST /api/account/password``: session only, in sudo mode, with the current password."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import remember
from pyramid.view import view_config

from ...models import User
from ...responses import json_error
from ...schemas import parse_json, reauth_required
from ...schemas.users import PasswordChange
from ...security.login import check_password
from ...security.permissions import Permission
from ...security.sudo import in_sudo
from ...services.passwords import change_password
from .auth import too_many_attempts


@view_config(route_name="api.account.password", request_method="POST",
             permission=Permission.ACCOUNT)
def password_change(request):
    identity = request.identity
    if not in_sudo(identity):
        raise reauth_required()
    body = parse_json(request, PasswordChange)
    user = request.dbsession.get(User, identity.user_id)
    check = check_password(request, user.email, body.current_password, user=user)
    if check.throttled:
        request.bookkeeping.audit("login:throttled", user.id, via="password_change")
        return too_many_attempts(check.retry_after)
    if not check.ok:
        request.bookkeeping.audit("sudo:failure", user.id, via="password_change")
        return json_error(403, "invalid_password", "The current password is wrong.")
    change_password(request.dbsession, request.registry.dh_passwords, user, body.new_password)
    # Every session ended with the change; this one goes on with a new secret.
    headers = remember(request, user.id, user=user)
    request.bookkeeping.audit("password:changed", user.id)
    return HTTPNoContent(headers=headers)
