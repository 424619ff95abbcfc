"""Administration: find a user, deactivate or reactivate them, give or take
admin rights. Admins only, in a session; every change in sudo mode, and in
the admin's and the user's security logs."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...models import User
from ...resources import NotFound, path_id
from ...security.permissions import Permission
from ...security.sudo import in_sudo
from ...services.mfa import reset_mfa
from ...services.users import search_users, set_active, set_admin
from .account import sudo_prompt
from .auth import render_form


@view_config(route_name="admin.users", request_method="GET", permission=Permission.ADMIN_USERS)
def users_page(request):
    query = request.GET.get("q", "")[:254]
    return render_form(request, "admin_users.jinja2", query=query,
                       users=search_users(request.dbsession, query),
                       me=request.identity.user_id)


def _target(request) -> User:
    user = request.dbsession.get(User, path_id(request))
    if user is None:
        raise NotFound()
    return user


def _back(request):
    return HTTPSeeOther(location=request.route_path("admin.users", _query={"q": request.POST.get("q", "")}))


def _change(request, what: str, apply) -> object:
    """Check the common rules, then ``apply(user, on)``; back to the list,
    saying ``<username>: <what> on|off.`` (``what`` ending in a colon: no on/off)."""
    user = _target(request)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("admin.users"), 403,
                           "Enter your password to change another account.")
    if user.id == request.identity.user_id:
        request.session.flash("You cannot change your own account here.")
        return _back(request)
    on = request.POST.get("on") == "true"
    apply(user, on)
    done = what.rstrip(":") if what.endswith(":") else f"{what} {'on' if on else 'off'}"
    request.session.flash(f"{user.username}: {done}.")
    return _back(request)


@view_config(route_name="admin.user.active", request_method="POST", permission=Permission.ADMIN_USERS)
def user_active_submit(request):
    return _change(request, "active", lambda user, on: set_active(
        request.dbsession, request.bookkeeping, user, on, by_user_id=request.identity.user_id))


@view_config(route_name="admin.user.mfa", request_method="POST", permission=Permission.ADMIN_USERS)
def user_mfa_reset_submit(request):
    """A locked-out user's second factors removed (and their sessions ended)."""
    return _change(request, "second factors reset:", lambda user, _on: reset_mfa(
        request.dbsession, request.bookkeeping, user, by_user_id=request.identity.user_id))


@view_config(route_name="admin.user.admin", request_method="POST", permission=Permission.ADMIN_USERS)
def user_admin_submit(request):
    return _change(request, "admin rights", lambda user, on: set_admin(
        request.bookkeeping, user, on, by_user_id=request.identity.user_id))
