"""Pages: log in, log out, register."""
from __future__ import annotations

from pydantic import ValidationError
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import forget, remember
from pyramid.view import view_config

from ...schemas import ValidationFailed, field_errors
from ...schemas.users import Login, Registration
from ...security.login import check_password
from ...security.permissions import Permission
from ...services import Conflict
from ...services.users import register_user
from . import page_values, safe_next

GENERIC_LOGIN_ERROR = "The email or the password is wrong."


def render_form(request, template: str, status: int = 200, headers=None, **values):
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
        body = Login.model_validate({"email": email, "password": request.POST.get("password", "")})
    except ValidationError:
        return render_form(request, "login.jinja2", 400, error=GENERIC_LOGIN_ERROR, email=email,
                           next=next_path)
    check = check_password(request, body.email, body.password)
    user_id = check.user.id if check.user else None
    if check.throttled:
        request.bookkeeping.audit("login:throttled", user_id, via="form")
        return render_form(
            request, "login.jinja2", 429, headers={"Retry-After": str(check.retry_after)},
            error="Too many failed attempts; try again later.", email=email, next=next_path,
        )
    if not check.ok:
        request.bookkeeping.audit("login:failure", user_id, via="form")
        return render_form(request, "login.jinja2", 400, error=GENERIC_LOGIN_ERROR, email=email,
                           next=next_path)
    headers = remember(request, check.user.id, user=check.user)
    request.bookkeeping.audit("login:success", check.user.id, via="form",
                              session_id=request.identity.session.id)
    return HTTPSeeOther(location=next_path, headers=headers)


@view_config(route_name="logout", request_method="POST", permission=Permission.PUBLIC)
def logout(request):
    identity = request.identity
    if identity is not None and identity.session is not None:
        request.bookkeeping.audit("logout", identity.user_id, session_id=identity.session.id)
    headers = forget(request)
    return HTTPSeeOther(location=request.route_path("login"), headers=headers)


@view_config(route_name="register", request_method="GET", permission=Permission.PUBLIC)
def register_form(request):
    return render_form(request, "register.jinja2", values={}, errors={})


@view_config(route_name="register", request_method="POST", permission=Permission.PUBLIC)
def register_submit(request):
    values = {name: request.POST.get(name, "") for name in ("email", "username")}
    try:
        body = Registration.model_validate(dict(values, password=request.POST.get("password", "")))
        user = register_user(request.dbsession, request.passwords,
                             email=body.email, username=body.username, password=body.password)
    except ValidationError as exc:
        return render_form(request, "register.jinja2", 400, values=values, errors=field_errors(exc))
    except ValidationFailed as exc:
        return render_form(request, "register.jinja2", 400, values=values, errors=exc.fields)
    except Conflict as exc:
        return render_form(request, "register.jinja2", 409, values=values,
                           errors={exc.field or "email": exc.message})
    request.bookkeeping.audit("user:registered", user.id)
    request.session.flash("Your account is ready: log in.")
    return HTTPSeeOther(location=request.route_path("login"))
