"""The one function that computes a caller's principals (DESIGN section 5)."""
from __future__ import annotations

from pyramid.authorization import Authenticated, Everyone

from .identity import Identity
from .permissions import ADMIN_PRINCIPAL


def principals_for(identity: Identity | None, context: object) -> list[str]:
    """``system.Everyone``, then for a caller ``system.Authenticated``,
    ``scope:<scope>`` for each scope held, ``user:<id>``, ``role:admin`` when
    admin rights are in force, and ``project:<id>:<role>`` for the caller's
    membership of the context's project.

    The context says which project it belongs to (``project_id``), the
    caller's role there (``caller_role``, loaded with the context in the same
    statement) and whether a restricted token reaches that project
    (``in_token_reach``). Outside a restricted token's projects the caller is
    nobody in particular: only what anyone may do is left (404 elsewhere),
    whoever owns the resource, admins included.
    """
    if identity is None:
        return [Everyone]
    principals = [Everyone, Authenticated]
    principals.extend("scope:" + scope for scope in identity.scopes)
    if identity.is_restricted and not getattr(context, "in_token_reach", True):
        return principals
    principals.append(f"user:{identity.user_id}")
    if identity.admin_rights:
        principals.append(ADMIN_PRINCIPAL)
    project_id = getattr(context, "project_id", None)
    role = getattr(context, "caller_role", None)
    if project_id is not None and role is not None:
        principals.append(f"project:{project_id}:{role}")
    return principals
