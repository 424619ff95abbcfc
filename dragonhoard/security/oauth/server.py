"""oauthlib's endpoints, put together for dragonhoard, and the adaptation of a
Pyramid request to them and of their answers back (DESIGN section 15).

Built per request: each is a few small objects around the request's
:class:`Validator`; the OAuth endpoints are no hot path.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from oauthlib.oauth2 import (
    AuthorizationEndpoint,
    BearerToken,
    IntrospectEndpoint,
    MetadataEndpoint,
    RefreshTokenGrant,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (
    AuthorizationCodeGrant,
    code_challenge_method_s256,
)
from oauthlib.oauth2.rfc8628.endpoints import DeviceAuthorizationEndpoint
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant

from ...services import oauth as grants
from .. import tokens
from ..permissions import SCOPES
from .validator import Validator, basic_credentials

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


#: RFC 7636 section 4.2: BASE64URL(SHA-256(verifier)), unpadded, is 43 characters.
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def _challenge_shape(request) -> dict:
    """An authorization request's challenge, when it has one, is an S256 one."""
    if request.code_challenge is not None and not S256_CHALLENGE.fullmatch(request.code_challenge):
        raise InvalidRequestError(description="code_challenge must be 43 base64url characters "
                                  "(S256).", request=request)
    return {}


class S256CodeGrant(AuthorizationCodeGrant):
    """PKCE with S256 only: ``plain`` is refused (OAuth 2.1, RFC 9700), and
    a challenge that no S256 digest can be is refused before it is stored."""

    _code_challenge_methods = {"S256": code_challenge_method_s256}

    def __init__(self, request_validator) -> None:
        super().__init__(request_validator)
        self.custom_validators.pre_auth.append(_challenge_shape)


def _access_token(request) -> str:
    return tokens.generate(tokens.OAUTH_ACCESS_PREFIX)


def _refresh_token(request) -> str:
    return tokens.generate(tokens.OAUTH_REFRESH_PREFIX)


@dataclass
class Endpoints:
    authorization: AuthorizationEndpoint
    token: TokenEndpoint
    revocation: RevocationEndpoint
    introspection: IntrospectEndpoint
    device: DeviceAuthorizationEndpoint
    validator: Validator


def endpoints_for(request) -> Endpoints:
    validator = Validator(request)
    bearer = BearerToken(validator, token_generator=_access_token,
                         expires_in=request.settings.oauth_access_seconds,
                         refresh_token_generator=_refresh_token)
    code = S256CodeGrant(validator)
    refresh = RefreshTokenGrant(validator, issue_new_refresh_tokens=True)
    device = DeviceCodeGrant(validator)
    base = request.application_url
    device_endpoint = DeviceAuthorizationEndpoint(
        validator, verification_uri=base + "/device",
        expires_in=int(grants.DEVICE_LIFETIME.total_seconds()), interval=grants.DEVICE_INTERVAL,
        verification_uri_complete=base + "/device?user_code={user_code}",
        user_code_generator=grants.new_user_code,
    )
    return Endpoints(
        authorization=AuthorizationEndpoint(default_response_type="code",
                                            response_types={"code": code},
                                            default_token_type=bearer),
        token=TokenEndpoint(default_grant_type="authorization_code",
                            grant_types={"authorization_code": code, "refresh_token": refresh,
                                         DEVICE_GRANT: device},
                            default_token_type=bearer),
        revocation=RevocationEndpoint(validator,
                                      supported_token_types=("access_token", "refresh_token")),
        introspection=IntrospectEndpoint(validator,
                                         supported_token_types=("access_token", "refresh_token")),
        device=device_endpoint,
        validator=validator,
    )


def metadata(request) -> dict:
    """RFC 8414: what oauthlib derives from the endpoints, with our URLs."""
    found = endpoints_for(request)
    base = request.application_url
    claims = {
        "issuer": base,
        "authorization_endpoint": base + "/oauth/authorize",
        "token_endpoint": base + "/oauth/token",
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        "device_authorization_endpoint": base + "/oauth/device_authorization",
        "scopes_supported": list(SCOPES),
        "response_modes_supported": ["query"],
        "service_documentation": base + "/api/docs",
        # "none": a public app (native, command line) names itself only.
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                  "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic",
                                                       "client_secret_post", "none"],
    }
    # raise_errors=False: oauthlib insists on an https issuer, and a
    # development server is http://localhost.
    endpoint = MetadataEndpoint([found.authorization, found.token, found.revocation,
                                 found.introspection], claims, raise_errors=False)
    answer = dict(endpoint.claims)
    answer["grant_types_supported"] = ["authorization_code", "refresh_token", DEVICE_GRANT]
    answer["code_challenge_methods_supported"] = ["S256"]
    return answer


def as_oauthlib(request) -> tuple[str, str, str, dict]:
    """The request as oauthlib reads it: URI, method, body, headers.

    The body is decoded as UTF-8; the caller answers ``invalid_request``
    when it is not (UnicodeDecodeError)."""
    body = request.body.decode("utf-8") if request.body else ""
    headers = {name: value for name, value in request.headers.items()}
    return request.url, request.method, body, headers


def client_used_basic(request) -> bool:
    return basic_credentials(request.headers.get("Authorization")) is not None
