"""The permission table of DESIGN section 5, in one place.

Each permission names who may do it (as grantees that the resources turn into
ACL entries) and the scope a credential needs to use it. Resources build
their ``__acl__`` from :data:`RULES` with :func:`build_acl`; the policy reads
the scope, the session-only and the restricted-token columns from it.

Grantees:
- ``everyone``: anyone, anonymous callers too (a credential needs no scope
  for what anyone may do);
- ``everyone-if-published``: anyone, when the treasure is published;
- ``authenticated``: any valid credential;
- ``owner``: the treasure's owner, or the user a profile belongs to;
- ``project:<role>``: that role or a stronger one in the context's project;
- ``admin``: global admins.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from pyramid.authorization import DENY_ALL, Allow, Authenticated, Everyone

from ..models.project import roles_at_least

ADMIN_PRINCIPAL = "role:admin"

#: Every scope a token may hold, with the sentence the token page shows.
SCOPES: dict[str, str] = {
    "treasure:read": "Read your treasures and those of your projects, published or not.",
    "treasure:create": "Create treasures, alone or in projects where you are an editor.",
    "treasure:edit": "Edit treasures you may edit.",
    "treasure:delete": "Delete treasures you may delete.",
    "project:read": "List your projects and see their members.",
    "project:admin": "Create projects; edit, delete and manage the members of projects you own.",
    "user:read": "Read user profiles, and your own email address.",
    "user:edit": "Edit your profile (not the email address or the password).",
    "admin": "Use your admin rights (admins only).",
}
ADMIN_SCOPE = "admin"
USER_SCOPES = frozenset(s for s in SCOPES if s != ADMIN_SCOPE)
ALL_SCOPES = frozenset(SCOPES)


class Permission(StrEnum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    TREASURE_VIEW = "treasure.view"
    TREASURE_CREATE = "treasure.create"
    PROJECT_TREASURE_CREATE = "project.treasure.create"
    TREASURE_EDIT = "treasure.edit"
    TREASURE_DELETE = "treasure.delete"
    PROJECT_CREATE = "project.create"
    PROJECT_LIST = "project.list"
    PROJECT_VIEW = "project.view"
    PROJECT_ADMIN = "project.admin"
    USER_VIEW = "user.view"
    USER_VIEW_EMAIL = "user.view_email"
    USER_EDIT = "user.edit"
    ACCOUNT = "account"
    #: Setting up a second factor, the sudo it needs, logging out: what an
    #: account without one still reaches when ``dragonhoard.mfa.required = all``.
    ACCOUNT_MFA = "account.mfa"
    #: ``/api/me``: any valid credential, a second factor or not.
    WHOAMI = "whoami"
    TOKEN_SELF = "token.self"
    ADMIN_USERS = "admin.users"


@dataclass(frozen=True)
class Rule:
    grantees: tuple[str, ...]
    scope: str | None = None
    #: Account security: a bearer token gets 403 ``session_required``.
    session_only: bool = False
    #: Refused (plain 403) to a project-restricted token.
    unrestricted_only: bool = False
    #: Open to an account without a second factor when ``dragonhoard.mfa.required = all``.
    mfa_exempt: bool = False


RULES: dict[Permission, Rule] = {
    # Pages of logging in and out, static files, health: open to an account
    # without a second factor too (the treasure list checks for itself).
    Permission.PUBLIC: Rule(("everyone",), mfa_exempt=True),
    Permission.AUTHENTICATED: Rule(("authenticated",)),
    Permission.TREASURE_VIEW: Rule(
        ("everyone-if-published", "owner", "project:viewer", "admin"), "treasure:read"
    ),
    Permission.TREASURE_CREATE: Rule(("authenticated",), "treasure:create"),
    Permission.PROJECT_TREASURE_CREATE: Rule(("project:editor", "admin"), "treasure:create"),
    Permission.TREASURE_EDIT: Rule(("owner", "project:editor", "admin"), "treasure:edit"),
    Permission.TREASURE_DELETE: Rule(("owner", "project:owner", "admin"), "treasure:delete"),
    Permission.PROJECT_CREATE: Rule(("authenticated",), "project:admin", unrestricted_only=True),
    Permission.PROJECT_LIST: Rule(("authenticated",), "project:read"),
    Permission.PROJECT_VIEW: Rule(("project:viewer", "admin"), "project:read"),
    Permission.PROJECT_ADMIN: Rule(("project:owner", "admin"), "project:admin"),
    Permission.USER_VIEW: Rule(("authenticated",), "user:read"),
    Permission.USER_VIEW_EMAIL: Rule(("owner", "admin"), "user:read"),
    Permission.USER_EDIT: Rule(("owner", "admin"), "user:edit"),
    Permission.ACCOUNT: Rule(("authenticated",), session_only=True),
    Permission.ACCOUNT_MFA: Rule(("authenticated",), session_only=True, mfa_exempt=True),
    Permission.WHOAMI: Rule(("authenticated",), mfa_exempt=True),
    # A token may always revoke itself.
    Permission.TOKEN_SELF: Rule(("authenticated",), mfa_exempt=True),
    #: The administration pages: admins, in a session (their changes also
    #: need sudo mode, as every account change does).
    Permission.ADMIN_USERS: Rule(("admin",), "admin", session_only=True),
}


def build_acl(
    permissions: tuple[Permission, ...],
    *,
    owner_id: int | None = None,
    project_id: int | None = None,
    published: bool = False,
) -> list[tuple]:
    """The ACL granting ``permissions`` on a resource with these facts.

    Entries for ``Everyone`` come first: Pyramid stops at the first entry that
    allows, and what anyone may do must never ask a credential for a scope.
    Admins may do all of it; the list ends with DENY_ALL, so nothing is
    inherited from elsewhere.
    """
    public: list[tuple] = []
    others: list[tuple] = []
    for permission, grantee, role in _grants(permissions):
        if grantee == "everyone" or (grantee == "everyone-if-published" and published):
            public.append((Allow, Everyone, permission))
        elif grantee == "authenticated":
            others.append((Allow, Authenticated, permission))
        elif grantee == "owner":
            if owner_id is not None:
                others.append((Allow, f"user:{owner_id}", permission))
        elif grantee == "project":
            if project_id is not None:
                others.append((Allow, f"project:{project_id}:{role}", permission))
        elif grantee == "admin":
            others.append((Allow, ADMIN_PRINCIPAL, permission))
    public.extend(others)
    public.append(DENY_ALL)
    return public


@functools.cache
def _grants(permissions: tuple[Permission, ...]) -> tuple[tuple[Permission, str, str | None], ...]:
    """``(permission, grantee kind, project role)`` for each entry, worked out
    once per resource type (ACLs are built on every request)."""
    grants = []
    for permission in permissions:
        for grantee in RULES[permission].grantees:
            if grantee.startswith("project:"):
                for role in roles_at_least(grantee.removeprefix("project:")):
                    grants.append((permission, "project", role))
            else:
                grants.append((permission, grantee, None))
    return tuple(grants)


__all__ = [
    "ADMIN_PRINCIPAL",
    "ADMIN_SCOPE",
    "ALL_SCOPES",
    "Permission",
    "RULES",
    "SCOPES",
    "USER_SCOPES",
    "build_acl",
]
