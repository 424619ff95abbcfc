"""User profiles: every authenticated caller may see one (DESIGN section 5)."""
from __future__ import annotations

from ..models import User
from ..security.permissions import Permission, build_acl
from . import NotFound, path_id

USER_PERMISSIONS = (Permission.USER_VIEW, Permission.USER_VIEW_EMAIL, Permission.USER_EDIT,
                    Permission.AUTHENTICATED)


class UserResource:
    """``user`` is None for an anonymous caller: profiles exist for
    authenticated callers only, so nobody looks one up for them (401, never
    404, whether or not the user exists)."""

    __parent__ = None
    # Existence is no secret from authenticated callers; step 1 never applies.
    view_permission = None

    def __init__(self, user: User | None) -> None:
        self.user = user
        self.__name__ = str(user.id) if user else ""

    @property
    def __acl__(self) -> list:
        return build_acl(USER_PERMISSIONS, owner_id=self.user.id if self.user else None)


def user_factory(request) -> UserResource:
    if request.identity is None:
        return UserResource(None)
    user = request.dbsession.get(User, path_id(request))
    if user is None:
        raise NotFound()
    return UserResource(user)
