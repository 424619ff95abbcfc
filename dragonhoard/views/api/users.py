"""``/api/users``: registration, profiles, and finding a user to add as a member."""
from __future__ import annotations

from pyramid.view import view_config

from ...errors import DomainError, NeedsSession
from ...models import User
from ...resources.users import UserResource
from ...schemas import parse_json, read_json_object, validate
from ...schemas.shapes import page_answer, user_answer
from ...schemas.users import ProfileEdit, Registration
from ...security.checks import require
from ...security.permissions import Permission
from ...security.sudo import require_sudo
from ...services.users import edit_profile, find_by_username, register_user


@view_config(route_name="api.users", request_method="POST", renderer="json",
             permission=Permission.PUBLIC)
def register(request):
    """201 with the new user; it does not log in."""
    body = parse_json(request, Registration)
    user = register_user(request.dbsession, request.bookkeeping, request.passwords,
                         email=body.email, username=body.username, password=body.password)
    request.response.status = 201
    return user_answer(user, with_email=True)


def profile_answer(request, user: User) -> dict:
    """The profile, with the email for the user themself and admins (``user:read``)."""
    return user_answer(user, with_email=bool(
        request.has_permission(Permission.USER_VIEW_EMAIL, UserResource(user))
    ))


@view_config(route_name="api.users", request_method="GET", renderer="json",
             permission=Permission.USER_VIEW)
def users_by_username(request):
    """``?username=<exact>``, case-insensitively: a list of 0 or 1 user."""
    user = find_by_username(request.dbsession, request.GET.get("username", ""))
    items = [profile_answer(request, user)] if user else []
    return page_answer(items, 1, 20, len(items))


@view_config(route_name="api.user", request_method="GET", renderer="json",
             permission=Permission.USER_VIEW)
def user_get(request):
    return profile_answer(request, request.context.user)


@view_config(route_name="api.user", request_method="PATCH", renderer="json",
             permission=Permission.AUTHENTICATED)
def user_edit(request):
    """The refusal order of DESIGN section 5, with the email's twist: a token
    asking to change an email is told it needs a session before anything else."""
    context = request.context
    identity = request.identity
    try:
        data, unreadable = read_json_object(request), None
    except DomainError as problem:  # answered after the permission checks (step 5)
        data, unreadable = {}, problem
    if "email" in data and identity.token is not None:
        raise NeedsSession("Changing an email address needs a login session; tokens cannot do this.")
    require(request, Permission.USER_EDIT, context)
    if unreadable is not None:
        raise unreadable
    changes = validate(ProfileEdit, data).model_dump(exclude_unset=True)
    if changes.get("email") is not None:
        require_sudo(request)
    edit_profile(request.dbsession, request.bookkeeping, context.user, changes,
                 by_user_id=identity.user_id)
    return profile_answer(request, context.user)
