"""oauthlib's RequestValidator for dragonhoard: where the library asks, our
rows and rules answer (the protocol itself is oauthlib's).

One validator per HTTP request, bound to it (its database session and its
security log). oauthlib hands each method its own ``Request``; what one
method finds for the next (the app, the user, the grant, the code) is kept
on it, as oauthlib's own examples do.
"""
from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import unquote

from oauthlib.oauth2.rfc8628.request_validator import RequestValidator

from ...models import OAuthApp, User
from ...services import oauth as grants
from ...services.apps import app_by_client_id
from ..permissions import SCOPES
from ..tokens import hash_token

GRANT_TYPES = frozenset((
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
))


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``client_secret_basic`` (RFC 6749 section 2.3.1): the id and secret,
    each form-urlencoded, in an ``Authorization: Basic`` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


class Validator(RequestValidator):
    def __init__(self, request) -> None:
        self.http = request
        self.dbsession = request.dbsession
        self.events = request.bookkeeping
        self.settings = request.settings
        #: The app the last client check found (the device endpoint stores it).
        self.client: OAuthApp | None = None

    # -- clients -----------------------------------------------------------

    def _app(self, client_id: str | None) -> OAuthApp | None:
        return app_by_client_id(self.dbsession, client_id)

    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        """A confidential app always authenticates; so does anyone who sends
        a secret (a wrong one is never ignored)."""
        if basic_credentials(request.headers.get("Authorization")) is not None:
            return True
        if request.client_secret is not None:
            return True
        app = self._app(request.client_id)
        return app is None or app.confidential

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        basic = basic_credentials(request.headers.get("Authorization"))
        if basic is not None:
            if request.client_secret is not None:
                return False  # RFC 6749 section 2.3: one method at a time
            if request.client_id is not None and request.client_id != basic[0]:
                return False
            client_id, secret = basic
        else:
            client_id, secret = request.client_id, request.client_secret
        app = self._app(client_id)
        if app is None or not app.confidential or not app.secret_hash or not secret:
            return False
        if not hmac.compare_digest(app.secret_hash, hash_token(secret)):
            return False
        request.client = self.client = app
        request.client_id = app.client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        """A public app names itself; a confidential one must authenticate.
        Introspection is for an app's resource servers: never public."""
        app = self._app(client_id)
        if app is None or app.confidential or getattr(self.http, "oauth_endpoint", "") == "introspection":
            return False
        request.client = self.client = app
        return True

    def validate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        app = self._app(client_id)
        if app is None:
            # At the device endpoint (an app's call, not a browser's) the
            # client authentication that follows refuses an unknown app as
            # RFC 6749 section 5.2 says: 401 invalid_client.
            return getattr(self.http, "oauth_endpoint", "") == "device"
        request.client = app
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs) -> bool:
        return grant_type in GRANT_TYPES

    def validate_response_type(self, client_id, response_type, client, request, *args,
                               **kwargs) -> bool:
        return response_type == "code"

    # -- redirect URIs: exact matches only ----------------------------------

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        app = self._app(client_id)
        return app is not None and redirect_uri in app.redirect_uri_list

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs) -> str | None:
        """The app's one redirect URI, when it registered only one."""
        app = self._app(client_id)
        uris = app.redirect_uri_list if app is not None else []
        return uris[0] if len(uris) == 1 else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args,
                             **kwargs) -> bool:
        found = getattr(request, "oauth_code", None)
        return found is not None and found.redirect_uri == redirect_uri

    # -- scopes ------------------------------------------------------------

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        return all(scope in SCOPES for scope in scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        return []  # no scope: the app may ask who the user is, nothing more

    # -- authorization codes with PKCE (S256 only: see server.py) ----------

    def is_pkce_required(self, client_id, request) -> bool:
        return True

    def save_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        grants.save_code(self.dbsession, request.grant, code["code"],
                         redirect_uri=request.redirect_uri, scopes=request.scopes,
                         code_challenge=request.code_challenge)

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        """The app's live code, locked, not yet spent: oauthlib checks the
        PKCE verifier and the redirect URI next, and the code is spent only
        once they passed (:meth:`invalidate_authorization_code`), so that a
        code stolen without its verifier cannot be burnt by the thief."""
        found = grants.live_code(self.dbsession, self.events, client, code)
        if found is None or not self._take_grant(request, found.grant):
            return False
        request.oauth_code = found
        self._allow(request, found.scopes.split())
        return True

    def get_code_challenge(self, code, request) -> str | None:
        found = getattr(request, "oauth_code", None)
        return found.code_challenge if found is not None else None

    def get_code_challenge_method(self, code, request) -> str:
        return "S256"

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        grants.spend_code(self.dbsession, request.oauth_code)

    # -- refresh tokens -----------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        found = grants.use_refresh_token(self.dbsession, self.events, client, refresh_token)
        if found is None or not self._take_grant(request, found.grant):
            return False
        request.used_refresh = (found, refresh_token)
        self._allow(request, found.scopes.split())
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs) -> list[str]:
        return list(request.granted_scopes)

    def rotate_refresh_token(self, request) -> bool:
        return True

    # -- device codes (RFC 8628) --------------------------------------------

    def validate_device_code(self, client_id, device_code, request, *args, **kwargs) -> str | None:
        poll = grants.poll_device_code(self.dbsession, request.client, device_code)
        if poll.status == "invalid":
            return None
        if poll.status != "authorized":
            return poll.status
        if not self._take_grant(request, poll.device.grant):
            return None
        self._allow(request, poll.device.scopes.split())
        return "authorized"

    # -- tokens -------------------------------------------------------------

    def _take_grant(self, request, grant) -> bool:
        """The grant's user must still be there, and active."""
        user = self.dbsession.get(User, grant.user_id)
        if user is None or not user.is_active:
            return False
        request.user = user
        request.grant = grant
        return True

    def _allow(self, request, asked: list[str]) -> None:
        """The most a token issued now may hold: what the code, refresh token
        or device code was for, within the grant as it is now."""
        request.granted_scopes = [s for s in asked if s in request.grant.scope_list]
        request.scopes = list(request.granted_scopes)

    def save_bearer_token(self, token, request, *args, **kwargs) -> None:
        # Whatever the request asked for, never beyond what was granted (a
        # device's token request may name scopes: RFC 8628 has none there).
        allowed = set(request.granted_scopes)
        scopes = [scope for scope in request.scopes if scope in allowed]
        token["scope"] = " ".join(scopes)  # the answer oauthlib sends is this dict
        grants.save_tokens(self.dbsession, request.grant, token, scopes=scopes,
                           access_seconds=self.settings.oauth_access_seconds,
                           used_refresh=getattr(request, "used_refresh", None))

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        """RFC 7009: an access token alone; a refresh token with its grant."""
        found = grants.find_token(self.dbsession, request.client, token)
        if found is not None:
            grants.revoke_found(self.dbsession, self.events, found)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs) -> dict | None:
        found = grants.find_token(self.dbsession, request.client, token)
        if found is None:
            return None
        return grants.introspection(self.dbsession, request.client, found)

    def validate_bearer_token(self, token, scopes, request) -> bool:
        return False  # resources are served by the security policy, not by oauthlib
