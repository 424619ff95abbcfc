"""CSRF, with Pyramid's own machinery (DESIGN section 4).

- The token lives in the signed ``dh_state`` cookie session (Pyramid's
  ``SessionCSRFStoragePolicy``), is sent back in ``X-CSRF-Token`` or the
  ``csrf_token`` form field and compared by Pyramid in constant time.
- Once there is a login session the token belongs to it
  (:class:`LoginBoundCSRFStoragePolicy`): a new one at login, and a token
  from before the login, or from another login session, is refused.
- Pyramid checks it on every unsafe request for which :func:`csrf_required`
  says so: those authenticated by the session cookie, and anonymous form
  posts (the login and registration forms). Only an identity that came from
  a bearer token is exempt; an ``Authorization`` header by itself is not.
- Pyramid's own origin check runs over HTTPS only, so :func:`same_origin`
  checks ``Origin`` (or ``Referer``) over HTTP as well.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.exceptions import BadCSRFOrigin

from .identity import Identity

#: The state-cookie key naming the login session the CSRF token belongs to.
BOUND_TO = "_csrf_login_"

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(scheme: str, host: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{host}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, parts.hostname, port


def same_origin(request) -> bool:
    """False when the browser says the request comes from another origin.

    ``Origin: null`` (sandboxed frames, some redirects) counts as foreign.
    A request with neither header did not come from a browser page; the
    CSRF token still has to be right.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        origin = request.referer
        if not origin:
            return True
    try:
        parts = urlsplit(origin.strip().split(" ")[-1])
    except ValueError:  # not even a URL: not ours
        return False
    theirs = _origin_tuple(parts.scheme.lower(), parts.netloc)
    ours = _origin_tuple(request.scheme, request.host)
    return theirs is not None and theirs == ours


def check_same_origin(request) -> None:
    if not same_origin(request):
        raise BadCSRFOrigin("The request comes from another site.")


def csrf_required(request) -> bool:
    """Pyramid's CSRF callback: whether this unsafe request needs the token.

    It also checks the origin first, for the requests that need the token.
    """
    outcome = request.policy.authenticate(request)
    if isinstance(outcome, Identity):
        required = outcome.token is None
    else:
        # Anonymous (or a refused credential, which is answered 400/401
        # anyway): forms need the token, the JSON API has nothing to protect.
        required = not request.is_api
    if required:
        check_same_origin(request)
    return required


def login_session_id(request) -> int | None:
    """The id of the login session the request came with, if any."""
    outcome = request.policy.authenticate(request)
    if isinstance(outcome, Identity) and outcome.session is not None:
        return outcome.session.id
    return None


class LoginBoundCSRFStoragePolicy(SessionCSRFStoragePolicy):
    """Pyramid's session-stored token, bound to the login session it was made for.

    The binding is kept beside the token in the signed state cookie: a token
    made before the login (or for another login session) does not count
    for this one, and pages get a new one.
    """

    def new_csrf_token(self, request) -> str:
        token = super().new_csrf_token(request)
        request.session[BOUND_TO] = login_session_id(request)
        return token

    def get_csrf_token(self, request) -> str:
        if request.session.get(BOUND_TO) != login_session_id(request):
            return self.new_csrf_token(request)
        return super().get_csrf_token(request)

    def check_csrf_token(self, request, supplied_token: str) -> bool:
        if self.key not in request.session or request.session.get(BOUND_TO) != login_session_id(request):
            return False
        return super().check_csrf_token(request, supplied_token)

    def rebind(self, request) -> None:
        """Keep the token for the request's new login session (the same
        browser, after a password change replaced its session)."""
        if self.key in request.session:
            request.session[BOUND_TO] = login_session_id(request)
        else:
            self.new_csrf_token(request)
