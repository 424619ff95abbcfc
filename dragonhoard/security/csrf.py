"""CSRF, with Pyramid's own machinery (DESIGN section 4).

- The token lives in the signed ``dh_state`` cookie session (Pyramid's
  ``SessionCSRFStoragePolicy``), is sent back in ``X-CSRF-Token`` or the
  ``csrf_token`` form field, compared by Pyramid in constant time, and
  replaced at login.
- Pyramid checks it on every unsafe request for which :func:`csrf_required`
  says so: those authenticated by the session cookie, and anonymous form
  posts (the login and registration forms). Only an identity that came from
  a bearer token is exempt; an ``Authorization`` header by itself is not.
- Pyramid's own origin check runs over HTTPS only, so :func:`same_origin`
  checks ``Origin`` (or ``Referer``) over HTTP as well.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from pyramid.exceptions import BadCSRFOrigin

from .identity import Identity

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
    outcome = request.registry.dh_policy.authenticate(request)
    if isinstance(outcome, Identity):
        required = outcome.token is None
    else:
        # Anonymous (or a refused credential, which is answered 400/401
        # anyway): forms need the token, the JSON API has nothing to protect.
        required = not request.is_api
    if required:
        check_same_origin(request)
    return required
