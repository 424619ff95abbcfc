"""``POST /api/account/password``: session only, in sudo mode, with the current password."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import remember
from pyramid.view import view_config

from ...models import User
from ...schemas import parse_json
from ...schemas.users import PasswordChange
from ...security.login import confirm_password
from ...security.permissions import Permission
from ...security.sudo import require_sudo
from ...services.passwords import change_password


@view_config(route_name="api.account.password", request_method="POST",
             permission=Permission.ACCOUNT)
def password_change(request):
    identity = request.identity
    require_sudo(request)
    body = parse_json(request, PasswordChange)
    user = request.dbsession.get(User, identity.user_id)
    confirm_password(request, user, body.current_password, via="password_change")
    change_password(request.dbsession, request.bookkeeping, request.passwords, user,
                    body.new_password)
    # Every session ended with the change; this one goes on with a new secret.
    return HTTPNoContent(headers=remember(request, user.id, user=user, new_csrf=False))
