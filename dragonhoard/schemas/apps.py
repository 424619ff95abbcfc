"""Bodies about OAuth apps (DESIGN section 15).

Redirect URIs are matched character for character at ``/oauth/authorize``,
so they are taken exactly as sent: nothing is stripped or normalised.
Each one is an absolute URI without a fragment (RFC 6749 section 3.1.2),
ASCII with no spaces or control characters, at most 2000 characters, and:

- ``https://host/...``, for any app;
- ``http://`` only on a loopback host, ``127.0.0.1``, ``[::1]`` or
  ``localhost``, any port (RFC 8252 section 7.3: a native app listening on
  the loopback interface);
- a private-use scheme, for public apps only (RFC 8252 section 7.1: a
  native app's own scheme, which any app on the device could claim, so
  never where a secret is involved): the scheme is a reversed domain name,
  so it holds a dot (``com.example.app``), and there is no authority
  (``com.example.app:/callback``, one slash).

No user information (``user@``) in any of them: it only serves to make one
host look like another. An app has 1 to 10 redirect URIs, none twice.
The homepage is empty or an absolute ``http(s)`` URL with a host, under
the same rules of characters, fragment and user information (it becomes a
link on the consent page); spaces around it are dropped.
``confidential`` is chosen at creation only: in a PATCH it is a read-only
field (422), as are ``id``, ``client_id`` and ``created_at``.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from ..errors import Invalid
from . import Body
from .treasures import check_text

MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_HOMEPAGE_LENGTH = 500
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "::1", "localhost"))
#: RFC 3986 section 3.1, with at least one dot (a reversed domain name).
PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+")
#: Printable ASCII but the space: what a URI is made of (RFC 3986 section 2).
URI_CHARACTERS = re.compile(r"[!-~]*")
#: RFC 3986 section 3.2.2: an IPv6 address in brackets (no zone, no IPvFuture),
#: or a name without brackets; then a port.
AUTHORITY = re.compile(r"(\[(?P<literal>[0-9A-Fa-f:.]+)\]|[^#/?@:\[\]]*)(:[0-9]*)?")


def _parts(value: str, what: str):
    """``value`` split, or ValueError with the reason it is no URI for ``what``."""
    if not URI_CHARACTERS.fullmatch(value):
        raise ValueError("Use a URI: ASCII, no spaces (percent-encode other characters).")
    if "#" in value:
        raise ValueError(f"{what} has no fragment (#).")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a port that is no number)
    except ValueError:
        raise ValueError("This is not a URI.") from None
    if "@" in parts.netloc:
        raise ValueError("Leave out the user information (user@).")
    host = AUTHORITY.fullmatch(parts.netloc)
    if host is None:
        raise ValueError("This is not a host name or an address.")
    if host["literal"] is not None:
        try:
            ipaddress.IPv6Address(host["literal"])
        except ValueError:
            raise ValueError("This is not an IPv6 address.") from None
    return parts


def check_redirect_uri(value: str) -> str:
    """An https URI, http on a loopback host, or a private-use scheme."""
    parts = _parts(value, "A redirect URI")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("Give the host: https://example.com/callback.")
        if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError("Use https (http only on 127.0.0.1, [::1] or localhost).")
        return value
    if PRIVATE_SCHEME.fullmatch(scheme) and not parts.netloc and parts.path.startswith("/") \
            and not value[len(parts.scheme) + 1:].startswith("//"):
        return value  # whether the app may use it depends on the app: private_scheme_errors
    raise ValueError("Use https://..., http://127.0.0.1..., or an app scheme such as "
                     "com.example.app:/callback.")


def check_unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("Each redirect URI once.")
    return values


def check_homepage(value: str) -> str:
    """Empty, or an absolute http(s) URL with a host (it becomes a link)."""
    value = value.strip()
    if not value:
        return value
    parts = _parts(value, "A homepage")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("Use an http(s) address such as https://example.com, or leave it empty.")
    return value


def is_private_scheme(uri: str) -> bool:
    return urlsplit(uri).scheme.lower() not in ("http", "https")


def private_scheme_errors(uris: list[str], confidential: bool) -> None:
    """Invalid when a confidential app names a private-use scheme."""
    if not confidential:
        return
    errors = {f"redirect_uris.{i}": "An app scheme is for public apps only: use https."
              for i, uri in enumerate(uris) if is_private_scheme(uri)}
    if errors:
        raise Invalid(errors)


AppName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_text)]
Homepage = Annotated[str, Field(max_length=MAX_HOMEPAGE_LENGTH), AfterValidator(check_homepage)]
RedirectUri = Annotated[str, Field(min_length=1, max_length=MAX_URI_LENGTH),
                        AfterValidator(check_redirect_uri)]
RedirectUris = Annotated[list[RedirectUri], Field(min_length=1, max_length=MAX_REDIRECT_URIS),
                         AfterValidator(check_unique)]


class AppCreate(Body):
    name: AppName
    #: Empty, or the app's page (http or https).
    homepage: Homepage = ""
    #: Matched exactly: https, http on a loopback host, or (public apps) an app scheme.
    redirect_uris: RedirectUris
    #: True: the app keeps a client secret (a server). False: a public app
    #: (a native or browser app), which has none and relies on PKCE alone.
    confidential: bool = True


class AppEdit(Body):
    """Fields may be left out, not null; ``confidential`` is for good."""

    name: AppName = None
    homepage: Homepage = None
    redirect_uris: RedirectUris = None
