"""``POST /api/account/password``: session only, in sudo mode, with the current password."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import remember
from pyramid.view import view_config

from ...models import User
from ...schemas import ApiError, parse_json, reauth_required
from ...schemas.users import PasswordChange
from ...security.login import confirm_password
from ...security.permissions import Permission
from ...security.sudo import in_sudo
from ...services.passwords import change_password


@view_config(route_name="api.account.password", request_method="POST",
             permission=Permission.ACCOUNT)
def password_change(request):
    identity = request.identity
    if not in_sudo(identity):
        raise reauth_required()
    body = parse_json(request, PasswordChange)
    user = request.dbsession.get(User, identity.user_id)
    refusal = confirm_password(request, user, body.current_password, via="password_change")
    if refusal:
        raise ApiError(refusal.status, refusal.error, refusal.message, headers=refusal.headers)
    change_password(request.dbsession, request.passwords, user, body.new_password)
    # Every session ended with the change; this one goes on with a new secret.
    headers = remember(request, user.id, user=user, new_csrf=False)
    request.bookkeeping.audit("password:changed", user.id)
    return HTTPNoContent(headers=headers)
