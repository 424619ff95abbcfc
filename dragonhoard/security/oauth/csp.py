"""The pages whose form can end in a redirect to an app (DESIGN section 15).

Chromium checks every redirect of a form's navigation against the page's
CSP ``form-action``: the consent page's Authorize (302 to the app's
redirect URI), and a login form whose ``next`` is /oauth/authorize (303 to
it, then 302 to the app when it was consented to before) would be blocked by
``form-action 'self'``. Those pages' policy names the app's registered
redirect URI's origin too.

Anyone may register an app, so the origin a login page names may be
anyone's. That is accepted: form-action only says where this page's forms
may end up, its forms are ours (autoescaped templates, no inline script),
and the origin is a registered URI's, checked against a strict pattern, so
nothing can be added to the policy through it.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from ...services.apps import app_by_client_id

ENVIRON_KEY = "dragonhoard.csp.form_action"
_SOURCE = re.compile(r"[a-z][a-z0-9+.\-]*:(//[a-z0-9.\-]+(:[0-9]{1,5})?|//\[[0-9a-f:.]+\](:[0-9]{1,5})?)?")


def csp_source(redirect_uri: str) -> str | None:
    """``scheme://host[:port]`` of a web redirect URI, ``scheme:`` of a
    native app's private-use scheme (RFC 8252 section 7.1); None when it
    cannot be said safely in a policy."""
    try:
        parts = urlsplit(redirect_uri)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            source = f"{scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        else:
            source = f"{scheme}:"
    except ValueError:
        return None
    return source if _SOURCE.fullmatch(source) else None


def allow_form_redirect(request, redirect_uri: str) -> None:
    """This answer's page may send its form on (by redirect) to ``redirect_uri``."""
    source = csp_source(redirect_uri)
    if source is not None:
        request.environ.setdefault(ENVIRON_KEY, []).append(source)


def allow_form_redirect_for_next(request, next_path: str | None) -> None:
    """For a page whose form goes on to ``next_path``: when that is an
    authorization request of a registered app to one of its registered
    redirect URIs, that URI."""
    if not next_path or not next_path.startswith("/oauth/authorize?"):
        return
    query = parse_qs(urlsplit(next_path).query)
    client_id = (query.get("client_id") or [""])[0]
    app = app_by_client_id(request.dbsession, client_id)
    if app is None:
        return
    registered = app.redirect_uri_list
    wanted = (query.get("redirect_uri") or [None])[0]
    if wanted is None and len(registered) == 1:
        wanted = registered[0]
    if wanted in registered:
        allow_form_redirect(request, wanted)
