"""The second step of a login, a passkey login, and sudo by WebAuthn (DESIGN section 14).

Like ``POST /api/login``: no CSRF token (nobody is logged in yet), JSON
only, same origin only. The pending-login cookie says whose login it is; it
authenticates nothing by itself.
"""
from __future__ import annotations

from pyramid.view import view_config

from ...errors import BadCredentials, Conflict, Throttled
from ...schemas import parse_json
from ...schemas.mfa import CodeBody, WebAuthnAssertion
from ...security import challenges, pending, webauthn
from ...security.csrf import check_same_origin
from ...security.login import log_in_with_code, log_in_with_webauthn
from ...security.permissions import Permission
from ...services.mfa import credentials_of
from .auth import login_answer

REFUSED = "The code or the security key was not accepted, or the login has expired."


def recovery_banner(request, left: int | None) -> None:
    """The next page says a recovery code was used, and how many are left."""
    if left is not None:
        plural = "" if left == 1 else "s"
        request.session.flash(f"You used a recovery code: {left} code{plural} left. "
                              "Generate new ones on the two-factor page.")


def _answer(request, outcome) -> dict:
    if not outcome.throttled and not outcome.logged_in:
        raise BadCredentials(REFUSED)
    recovery_banner(request, outcome.recovery_left)
    return login_answer(request, outcome)


def _login_with_code(request, method: str) -> dict:
    check_same_origin(request)
    body = parse_json(request, CodeBody)
    return _answer(request, log_in_with_code(request, method, body.code, via="json"))


@view_config(route_name="api.login.totp", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login_totp(request):
    return _login_with_code(request, "totp")


@view_config(route_name="api.login.recovery", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login_recovery(request):
    return _login_with_code(request, "recovery")


@view_config(route_name="api.login.webauthn.options", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login_webauthn_options(request):
    """For the request's pending login: an assertion by one of its user's
    credentials. Without one: a passkey login (any discoverable credential,
    user verification required)."""
    check_same_origin(request)
    rp = webauthn.relying_party(request.settings)
    found = pending.find(request)
    if found is None:
        decision = request.throttle.passkey_challenge(request)
        if not decision.allowed:
            raise Throttled(decision.retry_after, "Too many sign-in attempts; try again later.")
        challenge = challenges.issue(request, "passkey")
        return webauthn.authentication_options(rp, challenge=challenge, allow=None,
                                               user_verification=True)
    allow = [row.credential_id for row in credentials_of(request.dbsession, found.user.id)]
    challenge = challenges.issue(request, "second-factor", user_id=found.user.id,
                                 pending_login_id=found.id)
    return webauthn.authentication_options(rp, challenge=challenge, allow=allow,
                                           user_verification=False)


@view_config(route_name="api.login.webauthn", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def login_webauthn(request):
    check_same_origin(request)
    body = parse_json(request, WebAuthnAssertion)
    return _answer(request, log_in_with_webauthn(request, body.credential, via="json"))


@view_config(route_name="api.sudo.webauthn.options", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT_MFA)
def sudo_webauthn_options(request):
    """Options for an assertion that opens this session's sudo window."""
    identity = request.identity
    allow = [row.credential_id for row in credentials_of(request.dbsession, identity.user_id)]
    if not allow:
        raise Conflict("This account has no security key or passkey.")
    challenge = challenges.issue(request, "sudo", user_id=identity.user_id,
                                 session_id=identity.session.id)
    return webauthn.authentication_options(webauthn.relying_party(request.settings),
                                           challenge=challenge, allow=allow,
                                           user_verification=False)
