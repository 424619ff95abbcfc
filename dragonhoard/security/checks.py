"""Asking the policy from inside a view, for what the route's permission
could not decide (a project named in the body, an email change)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden

from .permissions import Permission


def require(request, permission: Permission, context) -> None:
    """Raise the policy's denial, which the forbidden view answers as usual."""
    result = request.has_permission(permission, context)
    if not result:
        raise HTTPForbidden(result=result)
