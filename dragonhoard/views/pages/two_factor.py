"""Pages of second factors (DESIGN section 14): the second step of a login
(``/login/two-factor``) and ``/account/two-factor``.

Everything works without JavaScript but the WebAuthn ceremony itself
(static/webauthn.js, on the JSON API). Secrets and recovery codes are shown
in the answer of the POST that made them, once, never stored by a cache.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...errors import Conflict, Invalid, Throttled
from ...models import User
from ...resources import NotFound, path_id
from ...schemas import validate
from ...schemas.mfa import CodeBody
from ...schemas.shapes import webauthn_credential_answer
from ...security import pending, totp
from ...security.login import log_in_with_code
from ...security.permissions import Permission
from ...security.second_factor import methods_of
from ...security.sudo import in_sudo
from ...services import mfa
from ..api.mfa import required_for
from ..api.two_factor import REFUSED, recovery_banner
from ..errors import headers_of, status_of
from . import safe_next
from .account import sudo_prompt
from .auth import render_form

METHODS = ("totp", "recovery")


def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the second step of a login ---------------------------------------------------

def _second_step(request, found, next_path: str, status: int = 200, error: str | None = None,
                 headers=None):
    return render_form(request, "login_two_factor.jinja2", status, headers=headers,
                       methods=methods_of(request.dbsession, found.user.id), next=next_path,
                       error=error)


@view_config(route_name="login.two_factor", request_method="GET", permission=Permission.PUBLIC)
def second_step_page(request):
    next_path = safe_next(request.GET.get("next"))
    found = pending.find(request)
    if found is None:
        request.session.flash("Your login has expired: enter your password again.")
        return HTTPSeeOther(location=request.route_path("login", _query={"next": next_path}))
    return _second_step(request, found, next_path)


@view_config(route_name="login.two_factor", request_method="POST", permission=Permission.PUBLIC)
def second_step_submit(request):
    next_path = safe_next(request.POST.get("next"))
    found = pending.find(request)
    if found is None:
        request.session.flash("Your login has expired: enter your password again.")
        return HTTPSeeOther(location=request.route_path("login", _query={"next": next_path}))
    method = request.POST.get("method", "")
    try:
        body = validate(CodeBody, {"code": request.POST.get("code", "")})
    except Invalid:
        return _second_step(request, found, next_path, 400, "Enter the code.")
    if method not in METHODS:
        return _second_step(request, found, next_path, 400, REFUSED)
    outcome = log_in_with_code(request, method, body.code, via="form")
    if outcome.throttled:
        refusal = Throttled(outcome.retry_after)
        return _second_step(request, found, next_path, status_of(refusal), refusal.message,
                            headers=headers_of(refusal))
    if not outcome.logged_in:
        return _second_step(request, found, next_path, 400, REFUSED)
    recovery_banner(request, outcome.recovery_left)
    return HTTPSeeOther(location=next_path, headers=outcome.headers)


# -- /account/two-factor -------------------------------------------------------------

def _me(request) -> User:
    return request.dbsession.get(User, request.identity.user_id)


def render_account(request, status: int = 200, **values):
    state = mfa.status(request.dbsession, request.identity.user_id)
    return render_form(
        request, "account_two_factor.jinja2", status,
        state=state,
        credentials=[webauthn_credential_answer(row) for row in state.credentials],
        required=required_for(request, state),
        tokens_need_factor=request.settings.mfa_required != "none",
        in_sudo=in_sudo(request.identity),
        **values,
    )


def _back(request, message: str | None = None):
    if message:
        request.session.flash(message)
    return HTTPSeeOther(location=request.route_path("account.two_factor"))


def _sudo_first(request):
    return sudo_prompt(request, request.route_path("account.two_factor"), 403,
                       "Confirm it is you first.")


def _show_codes(request, codes: list[str], heading: str):
    return no_store(render_form(request, "recovery_codes.jinja2", 201, codes=codes, heading=heading))


@view_config(route_name="account.two_factor", request_method="GET", permission=Permission.ACCOUNT_MFA)
def account_page(request):
    return render_account(request)


@view_config(route_name="account.two_factor.totp", request_method="POST",
             permission=Permission.ACCOUNT_MFA)
def totp_start_page(request):
    if not in_sudo(request.identity):
        return _sudo_first(request)
    try:
        enrolment = mfa.start_totp(request.dbsession, _me(request), app_secret=request.settings.secret)
    except Conflict as exc:
        return _back(request, exc.message)
    return _enrolment_page(request, enrolment)


def _enrolment_page(request, enrolment, status: int = 200, error: str | None = None):
    return no_store(render_form(request, "totp_enrol.jinja2", status, secret=enrolment.secret,
                                qr=totp.qr_data_uri(enrolment.qr_svg), error=error))


@view_config(route_name="account.two_factor.totp.confirm", request_method="POST",
             permission=Permission.ACCOUNT_MFA)
def totp_confirm_page(request):
    user = _me(request)
    try:
        body = validate(CodeBody, {"code": request.POST.get("code", "")})
        codes = mfa.confirm_totp(request.dbsession, request.bookkeeping, request.passwords, user,
                                 body.code, app_secret=request.settings.secret)
    except Invalid as exc:
        enrolment = mfa.enrolment_in_progress(request.dbsession, user,
                                              app_secret=request.settings.secret)
        if enrolment is None:
            return _back(request, "Start setting up the authenticator app again.")
        return _enrolment_page(request, enrolment, 400,
                               exc.fields.get("code", "Enter the six-digit code."))
    except Conflict as exc:
        return _back(request, exc.message)
    if codes is not None:
        return _show_codes(request, codes, "The authenticator app is on")
    return _back(request, "The authenticator app is on.")


@view_config(route_name="account.two_factor.totp.remove", request_method="POST",
             permission=Permission.ACCOUNT_MFA)
def totp_remove_page(request):
    if not in_sudo(request.identity):
        return _sudo_first(request)
    if mfa.disable_totp(request.dbsession, request.bookkeeping, request.passwords, _me(request)):
        return _back(request, "The authenticator app is removed.")
    return _back(request)


@view_config(route_name="account.two_factor.webauthn", request_method="POST",
             permission=Permission.ACCOUNT_MFA)
def webauthn_unlock_page(request):
    """Adding a key is the page's script's work; this only asks for sudo first."""
    if not in_sudo(request.identity):
        return _sudo_first(request)
    return _back(request)


@view_config(route_name="account.two_factor.webauthn.remove", request_method="POST",
             permission=Permission.ACCOUNT_MFA)
def webauthn_remove_page(request):
    credential_id = path_id(request)
    if not in_sudo(request.identity):
        return _sudo_first(request)
    if not mfa.remove_webauthn(request.dbsession, request.bookkeeping, request.passwords,
                               _me(request), credential_id):
        raise NotFound()
    return _back(request, "The security key is removed.")


@view_config(route_name="account.two_factor.recovery", request_method="POST",
             permission=Permission.ACCOUNT_MFA)
def recovery_codes_page(request):
    if not in_sudo(request.identity):
        return _sudo_first(request)
    try:
        codes = mfa.regenerate_recovery_codes(request.dbsession, request.bookkeeping,
                                              request.passwords, _me(request))
    except Conflict as exc:
        return _back(request, exc.message)
    return _show_codes(request, codes, "New recovery codes")
