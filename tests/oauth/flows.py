"""The OAuth steps the protocol tests share, done through HTTP as an app and
its user would (webtest; the live-server tests use a real client library)."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

from ..helpers import form_login

REDIRECT = "http://127.0.0.1:8765/callback"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 section 4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def authorize_params(app, challenge: str, *, scope: str = "treasure:read user:read",
                     state: str = "st4te", redirect_uri: str = REDIRECT, **extra) -> dict:
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": state, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent(testapp, app, challenge: str, *, uncheck=(), projects: str = "all",
            project_slugs=(), decision: str = "allow", **params):
    """The consent page, filled in and sent: the redirect's query (or, for a
    consent given before, the redirect that comes at once)."""
    page = testapp.get("/oauth/authorize", authorize_params(app, challenge, **params))
    if page.status_int == 302:
        return query_of(page.headers["Location"])
    form = page.forms["consent"]
    for field in form.fields.get("granted_scope", []):
        if field._value in uncheck:
            field.checked = False
    form["projects"] = projects
    for field in form.fields.get("project", []):
        field.checked = field._value in project_slugs
    answer = form.submit("decision", value=decision, status=302)
    return query_of(answer.headers["Location"])


def code_for(testapp, user, app, *, login: bool = True, **kw) -> tuple[str, str]:
    """Log in (unless done), consent; the code and its verifier."""
    if login:
        form_login(testapp, user.email)
    verifier, challenge = pkce()
    return consent(testapp, app, challenge, **kw)["code"], verifier


def exchange(testapp, app, secret: str | None, code: str, verifier: str, status=200, **extra):
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": app.client_id}
    if secret is not None:
        body["client_secret"] = secret
    body.update(extra)
    return testapp.post("/oauth/token", {k: v for k, v in body.items() if v is not None},
                        status=status)


def tokens_for(testapp, user, app, secret: str | None, **kw) -> dict:
    """The whole code flow: the token answer (RFC 6749 section 5.1)."""
    code, verifier = code_for(testapp, user, app, **kw)
    return exchange(testapp, app, secret, code, verifier).json


def refresh(testapp, app, secret: str | None, refresh_token: str, status=200, **extra):
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": app.client_id}
    if secret is not None:
        body["client_secret"] = secret
    body.update(extra)
    return testapp.post("/oauth/token", body, status=status)
