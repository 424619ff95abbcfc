"""Asking the policy from inside a view, for what the route's permission
could not decide (a project named in the body, an email change)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden

from .permissions import Permission
from .policy import MfaDenied


def may_view(request, context) -> bool:
    """Whether the caller may see ``context`` at all (roles only; step 1 of
    DESIGN section 5's refusal order)."""
    return request.policy.may_view(request, context)


def require(request, permission: Permission, context) -> None:
    """Raise the policy's denial, which the forbidden view answers as usual."""
    result = request.has_permission(permission, context)
    if not result:
        raise HTTPForbidden(result=result)


def require_account_factor(request) -> None:
    """For a public route that shows a caller their own: refused (403
    ``mfa_required``) to an account without a second factor where every
    account needs one (``dragonhoard.mfa.required = all``)."""
    if request.policy.account_needs_factor(request.identity):
        raise HTTPForbidden(result=MfaDenied("account"))
