"""The one security policy: who is calling (identity) and what they may do (permits).

Reading order for a newcomer:
1. :meth:`SecurityPolicy._authenticate` asks the identity sources of
   ``dragonhoard.auth_sources`` in order: header sources when the request has
   an ``Authorization`` header, cookie sources otherwise. The first source
   that recognises its credential decides: an identity, or a refusal. A
   request that sends a bearer token is judged by it alone.
2. :func:`.principals.principals_for` turns the identity and the context
   into principals.
3. :meth:`SecurityPolicy.permits` checks the context's ACL, then the scope
   the permission needs, as a separate step, and says which was missing.
   A caller without a second factor is refused where one is required
   (``dragonhoard.mfa.required = all``, a project's ``require_mfa``: DESIGN
   section 14). ``views/errors.py`` turns a denial into DESIGN section 5's answers.
"""
from __future__ import annotations

from typing import Protocol

from pyramid.authorization import ACLHelper, Everyone
from pyramid.interfaces import ICSRFStoragePolicy, ISecurityPolicy
from pyramid.request import RequestLocalCache
from pyramid.security import Denied
from zope.interface import implementer

from .identity import UNSUPPORTED_SCHEME, Identity, Refusal
from .permissions import RULES, Permission
from .principals import principals_for

QUERY_TOKEN = Refusal(
    400, "invalid_request", "Tokens are accepted in the Authorization header only, never in the URL."
)
EMPTY_HEADER = Refusal(400, "invalid_request", "The Authorization header is empty.")


class IdentitySource(Protocol):
    """One kind of credential. ``reads`` is ``"header"`` or ``"cookie"``."""

    name: str
    reads: str

    def identify(self, request) -> Identity | Refusal | None:
        """An identity, a refusal, or None when the request holds no such credential."""


class CredentialRefused(Denied):
    def __new__(cls, refusal: Refusal):
        inst = Denied.__new__(cls, "credential refused: %s", refusal.description)
        inst.refusal = refusal
        return inst


class SessionRequired(Denied):
    def __new__(cls):
        return Denied.__new__(cls, "account security needs a login session, not a token")


class RoleDenied(Denied):
    """The ACL said no: the caller's roles do not allow it."""

    def __new__(cls, acl_result):
        inst = Denied.__new__(cls, "roles do not allow it: %s", acl_result)
        inst.acl_result = acl_result
        return inst


class RestrictionDenied(Denied):
    def __new__(cls):
        return Denied.__new__(cls, "a project-restricted token may not do this")


class MfaDenied(Denied):
    """A second factor is required and the caller's account has none:
    ``"account"`` (``dragonhoard.mfa.required = all``) or ``"project"``
    (the context's project requires one)."""

    def __new__(cls, where: str):
        inst = Denied.__new__(cls, "a second factor is required (%s)", where)
        inst.where = where
        return inst


def mfa_missing_for_project(identity: Identity | None, context: object) -> bool:
    """The context's project requires a second factor and the caller has none."""
    return (identity is not None and not identity.has_mfa
            and bool(getattr(context, "require_mfa", False)))


class ScopeDenied(Denied):
    def __new__(cls, scope: str):
        inst = Denied.__new__(cls, "the token lacks the scope %s", scope)
        inst.scope = scope
        return inst


@implementer(ISecurityPolicy)
class SecurityPolicy:
    def __init__(self, sources: list[IdentitySource], *, mfa_required: str = "none") -> None:
        self.sources = sources
        #: ``dragonhoard.mfa.required``: ``none``, ``tokens`` or ``all``.
        self.mfa_required = mfa_required
        self.session_source = next((s for s in sources if s.name == "session"), None)
        self._acl = ACLHelper()
        self._cache = RequestLocalCache(self._authenticate)

    # -- who is calling ---------------------------------------------------

    def _authenticate(self, request) -> Identity | Refusal | None:
        environ = request.environ
        if "access_token" in environ.get("QUERY_STRING", "") and "access_token" in request.GET:
            return QUERY_TOKEN
        header = environ.get("HTTP_AUTHORIZATION")
        if header is not None and not header.strip():
            return EMPTY_HEADER
        reads = "cookie" if header is None else "header"
        for source in self.sources:
            if source.reads == reads:
                outcome = source.identify(request)
                if outcome is not None:
                    return outcome
        # An Authorization header that no source understands answers like
        # another scheme; it never falls back to the cookie.
        return None if header is None else UNSUPPORTED_SCHEME

    def authenticate(self, request) -> Identity | Refusal | None:
        """The caller's identity, a refusal of their credential, or None (anonymous)."""
        return self._cache.get_or_create(request)

    def cached_outcome(self, request) -> Identity | Refusal | None:
        """What :meth:`authenticate` found, without computing it (None if not yet)."""
        outcome = self._cache.get(request)
        return None if outcome is RequestLocalCache.NO_VALUE else outcome

    def identity(self, request) -> Identity | None:
        outcome = self.authenticate(request)
        return outcome if isinstance(outcome, Identity) else None

    def authenticated_userid(self, request) -> int | None:
        identity = self.identity(request)
        return None if identity is None else identity.user_id

    # -- what they may do -------------------------------------------------

    def permits(self, request, context, permission: str):
        outcome = self.authenticate(request)
        if isinstance(outcome, Refusal):
            return CredentialRefused(outcome)
        identity = outcome
        rule = RULES.get(permission)
        if rule is None:
            return Denied("unknown permission %r", permission)
        if rule.session_only and identity is not None and identity.token is not None:
            return SessionRequired()
        principals = principals_for(identity, context)
        allowed = self._acl.permits(context, principals, permission)
        # The forbidden view answers 404 first where the caller may not view
        # the context: existence never leaks through these refusals.
        if self.account_needs_factor(identity) and not rule.mfa_exempt:
            return MfaDenied("account")
        # What anyone may do needs no second factor either. A member (or the
        # treasure's owner) learns why; anyone else is refused as before.
        if (not (allowed and allowed.ace[1] == Everyone) and mfa_missing_for_project(identity, context)
                and (allowed or getattr(context, "caller_role", None) is not None)):
            return MfaDenied("project")
        if not allowed:
            return RoleDenied(allowed)
        if rule.unrestricted_only and identity is not None and identity.is_restricted:
            return RestrictionDenied()
        # What anyone may do needs no scope: a token is never worth less
        # than no credential at all.
        if rule.scope is not None and allowed.ace[1] != Everyone:
            if "scope:" + rule.scope not in principals:
                return ScopeDenied(rule.scope)
        return allowed

    def account_needs_factor(self, identity: Identity | None) -> bool:
        """``dragonhoard.mfa.required = all`` and the caller's account has no
        second factor: only setting one up (and logging out) is left to it."""
        return self.mfa_required == "all" and identity is not None and not identity.has_mfa

    def may_view(self, request, context) -> bool:
        """Whether the caller's roles let them see the context at all (scopes aside).

        Step 1 of the refusal order: what the caller may not view answers 404,
        so that existence never leaks.
        """
        permission: Permission | None = getattr(context, "view_permission", None)
        if permission is None:
            return True
        identity = self.identity(request)
        return bool(self._acl.permits(context, principals_for(identity, context), permission))

    # -- login and logout -------------------------------------------------

    def remember(self, request, userid, **kw) -> list[tuple[str, str]]:
        """Start a login session for ``kw["user"]`` and make it this request's identity.

        ``new_csrf=False`` keeps the CSRF token: a session replaced after a
        password change is the same browser, whose page holds the token.
        """
        if self.session_source is None:
            return []
        headers, identity = self.session_source.start(request, kw["user"])
        # RequestLocalCache still holds the identity found before the login.
        self._cache.set(request, identity)
        # The CSRF token belongs to the login session (security/csrf.py).
        csrf_policy = request.registry.getUtility(ICSRFStoragePolicy)
        if kw.get("new_csrf", True):
            csrf_policy.new_csrf_token(request)
        else:
            csrf_policy.rebind(request)
        return headers

    def forget(self, request, **kw) -> list[tuple[str, str]]:
        """End the current login session; the rest of the request is anonymous."""
        if self.session_source is None:
            return []
        headers = self.session_source.end(request, self.identity(request))
        self._cache.set(request, None)
        return headers
