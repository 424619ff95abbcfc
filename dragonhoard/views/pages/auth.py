"""Pages: log in, log out, register."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ...errors import BadCredentials, Conflict, Invalid, Throttled
from ...schemas import validate
from ...schemas.users import Login, Registration
from ...security.login import log_in, log_out
from ...security.oauth.csp import allow_form_redirect_for_next
from ...security.permissions import Permission
from ...services.users import register_user
from ..errors import headers_of, status_of
from . import page_values, safe_next


def render_form(request, template: str, status: int = 200, headers=None, **values):
    allow_form_redirect_for_next(request, values.get("next"))
    response = render_to_response(template, page_values(request, **values), request=request)
    response.status = status
    if headers:
        response.headers.update(headers)
    return response


@view_config(route_name="login", request_method="GET", permission=Permission.PUBLIC)
def login_form(request):
    return render_form(request, "login.jinja2", next=safe_next(request.GET.get("next")))


@view_config(route_name="login", request_method="POST", permission=Permission.PUBLIC)
def login_submit(request):
    next_path = safe_next(request.POST.get("next"))
    email = request.POST.get("email", "")
    try:
        body = validate(Login, {"email": email, "password": request.POST.get("password", "")})
        outcome = log_in(request, body.email, body.password, via="form")
        if outcome.throttled:
            raise Throttled(outcome.retry_after)
        if not outcome.logged_in and not outcome.mfa_required:
            raise BadCredentials()
    except Invalid:
        # A form that cannot be a login is refused like a wrong password.
        return render_form(request, "login.jinja2", 400, error=BadCredentials().message,
                           email=email, next=next_path)
    except BadCredentials as refusal:
        return render_form(request, "login.jinja2", 400, error=refusal.message, email=email,
                           next=next_path)
    except Throttled as refusal:
        return render_form(request, "login.jinja2", status_of(refusal), headers=headers_of(refusal),
                           error=refusal.message, email=email, next=next_path)
    if outcome.mfa_required:
        # The password was right; the second-factor page finishes the login.
        location = request.route_path("login.two_factor", _query={"next": next_path})
        return HTTPSeeOther(location=location, headers=outcome.headers)
    if request.policy.account_needs_factor(request.identity):
        # dragonhoard.mfa.required = all: setting one up is all this account may do.
        request.session.flash("This site requires a second factor: set one up to go on.")
        return HTTPSeeOther(location=request.route_path("account.two_factor"), headers=outcome.headers)
    return HTTPSeeOther(location=next_path, headers=outcome.headers)


@view_config(route_name="logout", request_method="POST", permission=Permission.PUBLIC)
def logout(request):
    return HTTPSeeOther(location=request.route_path("login"), headers=log_out(request))


@view_config(route_name="register", request_method="GET", permission=Permission.PUBLIC)
def register_form(request):
    return render_form(request, "register.jinja2", values={}, errors={})


@view_config(route_name="register", request_method="POST", permission=Permission.PUBLIC)
def register_submit(request):
    values = {name: request.POST.get(name, "") for name in ("email", "username")}
    try:
        body = validate(Registration, dict(values, password=request.POST.get("password", "")))
        register_user(request.dbsession, request.bookkeeping, request.passwords,
                      email=body.email, username=body.username, password=body.password)
    except Invalid as exc:
        return render_form(request, "register.jinja2", 400, values=values, errors=exc.fields)
    except Conflict as exc:
        return render_form(request, "register.jinja2", 409, values=values,
                           errors={exc.field or "email": exc.message})
    request.session.flash("Your account is ready: log in.")
    return HTTPSeeOther(location=request.route_path("login"))
