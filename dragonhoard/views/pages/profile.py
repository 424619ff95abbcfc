"""The profile page: username and email; the email changes in sudo mode."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...errors import Conflict, Invalid
from ...models import User
from ...schemas import validate
from ...schemas.users import ProfileEdit
from ...security.permissions import Permission
from ...security.sudo import in_sudo
from ...services.users import edit_profile
from .account import sudo_prompt
from .auth import render_form


def render_profile(request, user: User, status: int = 200, errors=None, values=None):
    values = values or {"username": user.username, "email": user.email}
    return render_form(request, "profile.jinja2", status, values=values, errors=errors or {})


@view_config(route_name="account.profile", request_method="GET", permission=Permission.ACCOUNT)
def profile_page(request):
    return render_profile(request, request.dbsession.get(User, request.identity.user_id))


@view_config(route_name="account.profile", request_method="POST", permission=Permission.ACCOUNT)
def profile_submit(request):
    user = request.dbsession.get(User, request.identity.user_id)
    values = {name: request.POST.get(name, "") for name in ("username", "email")}
    changes = {name: value for name, value in values.items() if value != getattr(user, name)}
    try:
        body = validate(ProfileEdit, changes)
    except Invalid as exc:
        return render_profile(request, user, 400, errors=exc.fields, values=values)
    changes = body.model_dump(exclude_unset=True)
    if "email" in changes and not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("account.profile"), 403,
                           "Enter your password to change your email address.")
    try:
        edit_profile(request.dbsession, request.bookkeeping, user, changes,
                     by_user_id=user.id)
    except Conflict as exc:
        return render_profile(request, user, 409, errors={exc.field or "email": exc.message},
                              values=values)
    request.session.flash("Your profile is saved." if changes else "Nothing changed.")
    return HTTPSeeOther(location=request.route_path("account.profile"))
