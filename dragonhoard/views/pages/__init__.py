"""HTML pages. Each renders with :func:`page_values`: the caller, the CSRF
token for its forms (and for the page's own JavaScript) and flash messages."""
from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from pyramid.csrf import get_csrf_token


def page_values(request, **values) -> dict:
    values.setdefault("user", request.identity)
    values.setdefault("csrf_token", get_csrf_token(request))
    values.setdefault("flashes", request.session.pop_flash())
    return values


#: What a redirect target keeps as it is; everything else is percent-encoded,
#: so that a Location header is ASCII whatever the ``next`` parameter held.
URL_SAFE = "/?&=#%:@!$'()*+,;~"


def safe_next(target: str | None) -> str:
    """``target``, percent-encoded, when it is a path on this site, else ``/``.

    Refused: anything with a scheme or a host, protocol-relative ``//host``,
    backslashes (browsers read ``/\\host`` as ``//host``), control
    characters (``/\\t/host`` loses its tab on the way) and dot segments
    (``/.//host`` is ``//host`` once resolved; ``%2e`` counts as a dot).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return "/"
    return quote(target, safe=URL_SAFE)
