"""Pages: sessions, password, security log, and the sudo prompt they share."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import view_config

from ...errors import Invalid, Throttled, WrongCode, WrongPassword
from ...models import User
from ...resources import path_id
from ...schemas import validate
from ...schemas.pagination import page_params
from ...schemas.shapes import login_session_answer
from ...schemas.users import PasswordChange, SudoBody
from ...security.login import confirm_password
from ...security.permissions import Permission
from ...security.second_factor import confirm_totp, methods_of
from ...security.sudo import in_sudo, open_sudo
from ...services.events import daily_logins, list_events
from ...services.passwords import change_password
from ...services.sessions import list_sessions, revoke_other_sessions, revoke_session
from ..errors import headers_of, status_of
from . import safe_next
from .auth import render_form
from .charts import logins_chart


def sudo_prompt(request, next_path: str, status: int = 200, error: str | None = None):
    """The page that asks for the password again before a sensitive change
    (or, where the account has one, a TOTP code or a security key)."""
    identity = request.identity
    methods = methods_of(request.dbsession, identity.user_id) if identity.has_mfa else []
    return render_form(request, "sudo.jinja2", status, next=next_path, error=error, methods=methods)


def check_current_password(request, password: str) -> User:
    """The signed-in user, when ``password`` is theirs (else WrongPassword or Throttled)."""
    user = request.dbsession.get(User, request.identity.user_id)
    confirm_password(request, user, password, via="page")
    return user


@view_config(route_name="account.sudo", request_method="POST", permission=Permission.ACCOUNT_MFA)
def sudo_submit(request):
    next_path = safe_next(request.POST.get("next"))
    by_code = bool(request.POST.get("totp_code", "").strip())
    fields = ({"totp_code": request.POST["totp_code"]} if by_code
              else {"password": request.POST.get("password", "")})
    try:
        body = validate(SudoBody, fields)
    except Invalid:
        return sudo_prompt(request, next_path, 400,
                           "Enter the code." if by_code else "Enter your password.")
    try:
        if by_code:
            user = request.dbsession.get(User, request.identity.user_id)
            confirm_totp(request, user, body.totp_code)
        else:
            check_current_password(request, body.password)
    except (WrongPassword, WrongCode, Throttled) as refusal:
        response = sudo_prompt(request, next_path, status_of(refusal), refusal.message)
        response.headers.update(headers_of(refusal))
        return response
    open_sudo(request, "totp" if by_code else "password")
    return HTTPSeeOther(location=next_path)


@view_config(route_name="account.sessions", request_method="GET", permission=Permission.ACCOUNT)
def sessions_page(request):
    identity = request.identity
    idle = request.settings.session_idle_seconds
    rows, _total = list_sessions(request.dbsession, identity.user_id, idle)
    sessions = [login_session_answer(row, identity.session.id, idle) for row in rows]
    return render_form(request, "sessions.jinja2", sessions=sessions)


@view_config(route_name="account.session.revoke", request_method="POST", permission=Permission.ACCOUNT)
def session_revoke_page(request):
    identity = request.identity
    session_id = path_id(request)
    if revoke_session(request.dbsession, request.bookkeeping, identity.user_id, session_id,
                      request.settings.session_idle_seconds):
        if session_id == identity.session.id:
            return HTTPSeeOther(location=request.route_path("login"), headers=forget(request))
        request.session.flash("The session is revoked.")
    return HTTPSeeOther(location=request.route_path("account.sessions"))


@view_config(route_name="account.sessions.revoke_others", request_method="POST",
             permission=Permission.ACCOUNT)
def sessions_revoke_others_page(request):
    identity = request.identity
    count = revoke_other_sessions(request.dbsession, request.bookkeeping, identity.user_id,
                                  identity.session.id)
    request.session.flash(f"{count} other session{'s' if count != 1 else ''} revoked.")
    return HTTPSeeOther(location=request.route_path("account.sessions"))


@view_config(route_name="account.password", request_method="GET", permission=Permission.ACCOUNT)
def password_page(request):
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.path)
    return render_form(request, "password.jinja2", errors={})


@view_config(route_name="account.password", request_method="POST", permission=Permission.ACCOUNT)
def password_submit(request):
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.path, 403, "Enter your password again first.")
    try:
        body = validate(PasswordChange, {name: request.POST.get(name, "")
                                         for name in ("current_password", "new_password")})
    except Invalid as exc:
        return render_form(request, "password.jinja2", 400, errors=exc.fields)
    new_password = body.new_password
    if new_password != request.POST.get("confirm_password", ""):
        return render_form(request, "password.jinja2", 400,
                           errors={"confirm_password": "The two new passwords differ."})
    try:
        user = check_current_password(request, body.current_password)
    except (WrongPassword, Throttled) as refusal:
        return render_form(request, "password.jinja2", status_of(refusal),
                           headers=headers_of(refusal), errors={"current_password": refusal.message})
    try:
        change_password(request.dbsession, request.bookkeeping, request.passwords, user,
                        new_password)
    except Invalid as exc:
        return render_form(request, "password.jinja2", 400, errors=exc.fields)
    headers = remember(request, user.id, user=user, new_csrf=False)
    request.session.flash("Your password is changed; your other sessions are logged out.")
    return HTTPSeeOther(location=request.route_path("account.sessions"), headers=headers)


@view_config(route_name="account.security", request_method="GET", permission=Permission.ACCOUNT)
def security_page(request):
    page, per_page = page_params(request)
    user_id = request.identity.user_id
    events, total = list_events(request.dbsession, user_id, page=page, per_page=per_page)
    chart = logins_chart(daily_logins(request.dbsession, user_id)) if page == 1 else None
    return render_form(request, "security.jinja2", events=events, page=page, per_page=per_page,
                       total=total, chart=chart)
