"""``/api/users``: registration, profiles, and finding a user to add as a member."""
from __future__ import annotations

import re

from pyramid.view import view_config
from sqlalchemy import select

from ...models import User, canonical_username
from ...resources.users import UserResource
from ...responses import json_error
from ...schemas import ApiError, parse_json, read_json_object, reauth_required, validate
from ...schemas.pagination import page_json
from ...schemas.users import USERNAME_PATTERN, ProfileEdit, Registration, user_json
from ...security.checks import require
from ...security.permissions import Permission
from ...security.sudo import in_sudo
from ...services.users import check_available, register_user


@view_config(route_name="api.users", request_method="POST", renderer="json",
             permission=Permission.PUBLIC)
def register(request):
    """201 with the new user; it does not log in."""
    body = parse_json(request, Registration)
    user = register_user(request.dbsession, request.passwords,
                         email=body.email, username=body.username, password=body.password)
    request.bookkeeping.audit("user:registered", user.id)
    request.response.status = 201
    return user_json(user, with_email=True)


def profile_json(request, user: User) -> dict:
    """The profile, with the email for the user themself and admins (``user:read``)."""
    return user_json(user, with_email=bool(
        request.has_permission(Permission.USER_VIEW_EMAIL, UserResource(user))
    ))


@view_config(route_name="api.users", request_method="GET", renderer="json",
             permission=Permission.USER_VIEW)
def find_by_username(request):
    """``?username=<exact>``, case-insensitively: a list of 0 or 1 user."""
    username = request.GET.get("username", "")
    user = None
    if re.fullmatch(USERNAME_PATTERN.strip("^$"), username):
        user = request.dbsession.scalars(
            select(User).where(User.username_canonical == canonical_username(username))
        ).first()
    items = [profile_json(request, user)] if user else []
    return page_json(items, 1, 20, len(items))


@view_config(route_name="api.user", request_method="GET", renderer="json",
             permission=Permission.USER_VIEW)
def user_get(request):
    return profile_json(request, request.context.user)


@view_config(route_name="api.user", request_method="PATCH", renderer="json",
             permission=Permission.AUTHENTICATED)
def user_edit(request):
    """The refusal order of DESIGN section 5, with the email's twist: a token
    asking to change an email is told it needs a session before anything else."""
    context = request.context
    identity = request.identity
    try:
        data, unreadable = read_json_object(request), None
    except ApiError as problem:  # answered after the permission checks (step 5)
        data, unreadable = {}, problem
    if "email" in data and identity.token is not None:
        return json_error(403, "session_required",
                          "Changing an email address needs a login session; tokens cannot do this.")
    require(request, Permission.USER_EDIT, context)
    if unreadable is not None:
        raise unreadable
    body = validate(ProfileEdit, data)
    user = context.user
    changes = body.model_dump(exclude_unset=True)
    if changes.get("email") is not None and not in_sudo(identity):
        raise reauth_required()
    check_available(request.dbsession, email=changes.get("email"), username=changes.get("username"),
                    exclude_user_id=user.id)
    if "username" in changes:
        user.set_username(changes["username"])
    if "email" in changes and changes["email"] != user.email:
        user.set_email(changes["email"])
        request.bookkeeping.audit("email:changed", user.id, by_user_id=identity.user_id)
    request.dbsession.flush()
    return profile_json(request, user)
