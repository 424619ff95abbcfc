"""The app's own JavaScript: JSON login, logout and sudo (sessions only).

The second step of a login with a second factor is in ``two_factor.py``.
"""
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
from ...security.second_factor import confirm_assertion, confirm_totp
from ...security.sudo import open_sudo


@view_config(route_name="api.login", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login(request):
    """No CSRF token (nobody is logged in yet), but JSON only and same origin
    only, so that no cross-site form can log a victim in."""
    check_same_origin(request)
    body = parse_json(request, Login)
    outcome = log_in(request, body.email, body.password, via="json")
    return login_answer(request, outcome)


def login_answer(request, outcome) -> dict:
    """A login's JSON: the user and the new CSRF token; or, for an account
    with a second factor, which ones it has (the pending-login cookie set)."""
    if outcome.throttled:
        raise Throttled(outcome.retry_after)
    if outcome.mfa_required:
        request.response.headers.extend(outcome.headers)
        return {"mfa_required": True, "methods": list(outcome.mfa_methods)}
    if not outcome.logged_in:
        raise BadCredentials()
    request.response.headers.extend(outcome.headers)
    answer = {"user": user_answer(outcome.user, with_email=True), "csrf_token": get_csrf_token(request)}
    if outcome.recovery_left is not None:
        answer["recovery_codes_left"] = outcome.recovery_left
    return answer


@view_config(route_name="api.logout", request_method="POST", permission=Permission.ACCOUNT_MFA)
def logout(request):
    return HTTPNoContent(headers=log_out(request))


@view_config(route_name="api.sudo", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def sudo(request):
    """The password, a TOTP code or a WebAuthn assertion (DESIGN section 14)."""
    body = parse_json(request, SudoBody)
    user = request.dbsession.get(User, request.identity.user_id)
    if body.totp_code is not None:
        confirm_totp(request, user, body.totp_code)
        return {"sudo_until": open_sudo(request, "totp")}
    if body.webauthn is not None:
        confirm_assertion(request, user, body.webauthn)
        return {"sudo_until": open_sudo(request, "webauthn")}
    confirm_password(request, user, body.password, via="sudo")
    return {"sudo_until": open_sudo(request)}
