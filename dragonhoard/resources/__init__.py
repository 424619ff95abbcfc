"""Resources: the contexts that views act on, each with an ``__acl__`` built
from the permission table (``security/permissions.py``).

A factory loads its context row in one statement that also brings the
caller's membership of the context's project (DESIGN section 12), or raises
:class:`NotFound`; nothing else. A refused credential and a method the route
does not answer are answered before any factory runs (views/errors.py).
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound

from ..db import Caller
from ..models.meta import MAX_ID
from ..security.identity import Identity
from ..security.permissions import Permission, build_acl


class NotFound(HTTPNotFound):
    """404 for a row that is missing, or hidden from the caller.

    It carries no message of its own: on one route a hidden row and a
    missing one must answer byte for byte the same (DESIGN section 5), so
    every 404 is drawn by the one not-found view with the one message.
    """


class Root:
    """The context of routes that act on no particular row."""

    __name__ = ""
    __parent__ = None
    __acl__ = build_acl(
        (
            Permission.PUBLIC,
            Permission.AUTHENTICATED,
            Permission.ACCOUNT,
            Permission.ACCOUNT_MFA,
            Permission.WHOAMI,
            Permission.TOKEN_SELF,
            Permission.TREASURE_CREATE,
            Permission.PROJECT_CREATE,
            Permission.PROJECT_LIST,
            Permission.USER_VIEW,
            Permission.ADMIN_USERS,
        )
    )

    def __init__(self, request=None) -> None:
        self.request = request


def path_id(request, name: str = "id") -> int:
    """The whole number in the path (routes match ASCII digits only); one too
    large to be an id names nothing (404)."""
    value = int(request.matchdict[name])
    if value > MAX_ID:
        raise NotFound()
    return value


def root_factory(request) -> Root:
    return Root(request)


def caller_of(identity: Identity | None) -> Caller:
    """The ids a context statement needs (None: matches no membership)."""
    if identity is None:
        return Caller()
    return Caller(identity.user_id, identity.token.id if identity.token is not None else None)
