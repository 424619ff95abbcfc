"""Asking the policy from inside a view, for what the route's permission
could not decide (a project named in the body, an email change)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden

from .permissions import Permission


def may_view(request, context) -> bool:
    """Whether the caller may see ``context`` at all (roles only; step 1 of
    DESIGN section 5's refusal order)."""
    return request.policy.may_view(request, context)


def require(request, permission: Permission, context) -> None:
    """Raise the policy's denial, which the forbidden view answers as usual."""
    result = request.has_permission(permission, context)
    if not result:
        raise HTTPForbidden(result=result)
