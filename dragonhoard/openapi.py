"""The OpenAPI 3.1 document of the JSON API (DESIGN section 7), built once at start-up.

Every shape in it is generated (pydantic's JSON Schema 2020-12) from the
model that shapes the answer (``schemas/shapes.py``) or validates the body
(``schemas/*.py``); the rules those models check in Python rather than in
their types (``AfterValidator``s) are stated once, next to the validator
they describe (:data:`VALIDATOR_SCHEMAS`), and a validator missing there
stops the build. This module adds only the operation table: method, path,
parameters, which body, which answers, which errors and which permission;
the scope each operation needs comes from ``security/permissions.RULES``.
The endpoints OAuth apps call take forms and answer by the RFCs (oauthlib
writes those answers): models of their own, below, describe them. The tests
hold the table to the routes and views, and the fuzzer
(``tests/test_fuzz.py``) holds the running application to the document.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any, Literal

import orjson
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from .models.meta import MAX_ID
from .models.project import SLUG_PATTERN
from .request import OAUTH_APP_PATHS
from .schemas import Body
from .schemas import apps as ap
from .schemas import mfa as mf
from .schemas import shapes as s
from .schemas import tokens as tk
from .schemas import treasures as tr
from .schemas import users as us
from .schemas.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from .security.oauth.server import DEVICE_GRANT
from .security.permissions import RULES, SCOPES, Permission
from .security.tokens import (
    CHECKSUM_LENGTH,
    CLIENT_SECRET_PREFIX,
    OAUTH_ACCESS_PREFIX,
    OAUTH_REFRESH_PREFIX,
    PREFIX,
    RANDOM_LENGTH,
)
from .services import oauth as grants
from .services.apps import CLIENT_ID_PREFIX, MAX_APPS_PER_USER

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
#: An answer with no body at all (RFC 7009's 200).
NO_BODY = ""
REF = "#/components/schemas/{model}"
UNSAFE = frozenset(("POST", "PUT", "PATCH", "DELETE"))

# -- answers whose builders live in the views (the rest are schemas/shapes.py) --


class Error(s.Shape):
    """Every refusal and failure of the API (DESIGN section 6)."""

    error: str = Field(examples=["validation_failed"])
    message: str
    fields: dict[str, str] = Field(None, description="On 422: the problem of each field.")


class LoginAnswer(s.Shape):
    user: s.User
    #: Send it back in the X-CSRF-Token header of unsafe requests.
    csrf_token: str
    #: After a login with a recovery code: how many are left.
    recovery_codes_left: int = Field(None, ge=0)


class LoginResult(RootModel[LoginAnswer | s.MfaRequired]):
    """Logged in; or, for an account with a second factor, which ones it has
    (a pending-login cookie is set: send the second factor next)."""


class WebAuthnOptions(RootModel[dict[str, Any]]):
    """WebAuthn options (PublicKeyCredentialCreationOptions or
    RequestOptions, as WebAuthn's JSON): pass them to navigator.credentials."""


class TotpConfirmed(s.Shape):
    totp: Literal[True]
    #: The account's first factor: its ten recovery codes, shown this once.
    recovery_codes: list[str] = Field(None, min_length=10, max_length=10)


class WebAuthnAdded(s.WebAuthnCredential):
    #: The account's first factor: its ten recovery codes, shown this once.
    recovery_codes: list[str] = Field(None, min_length=10, max_length=10)


class RecoveryCodes(s.Shape):
    """A new set of ten; the old set no longer works."""

    codes: list[str] = Field(min_length=10, max_length=10)


class SudoAnswer(s.Shape):
    #: Until when token and account changes need no password.
    sudo_until: datetime


class LeakReportAnswer(s.Shape):
    """The same whatever the report named (DESIGN section 3)."""

    status: Literal["accepted"]
    message: str


class Health(s.Shape):
    status: Literal["ok", "unavailable"]


# -- OAuth 2.1: what apps send and get (DESIGN section 15) ------------------------
# oauthlib reads the forms and writes the answers (views/oauth.py); these models
# only describe them. Forms take unknown parameters (RFC 6749 section 3.1).

_ACCESS_TOKEN = f"^{OAUTH_ACCESS_PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}$"
_REFRESH_TOKEN = f"^{OAUTH_REFRESH_PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}$"
#: One or more scopes, separated by single spaces (RFC 6749 section 3.3).
SCOPE_LIST = "^({0})( ({0}))*$".format("|".join(re.escape(scope) for scope in SCOPES))
_SCOPE = Field(None, pattern=SCOPE_LIST, examples=["treasure:read user:read"])
_USER_CODE_PART = f"[{grants.USER_CODE_ALPHABET}]{{{grants.USER_CODE_LENGTH // 2}}}"


class Form(BaseModel):
    model_config = ConfigDict(extra="allow")


class ClientAuthentication(Form):
    """How an app proves itself (RFC 6749 section 2.3): a confidential app
    sends its client_id and client_secret here (client_secret_post) or in
    HTTP Basic (client_secret_basic, one or the other); a public app sends
    its client_id alone."""

    #: The app's `client_id` (`dhc_...`).
    client_id: str = Field(None, min_length=1)
    #: A confidential app's secret (`dhs_...`).
    client_secret: str = Field(None, min_length=1)


class CodeExchange(ClientAuthentication):
    """The authorization code of `/oauth/authorize`, exchanged (RFC 6749 section 4.1.3)."""

    grant_type: Literal["authorization_code"]
    #: Single-use, valid 60 seconds; a second use revokes what the first one issued.
    code: str = Field(min_length=1)
    #: The one the authorization request named (required when it named one).
    redirect_uri: str = Field(None, min_length=1)
    #: PKCE (RFC 7636): the secret whose S256 hash was the `code_challenge`.
    code_verifier: str = Field(pattern="^[A-Za-z0-9._~-]{43,128}$")


class RefreshExchange(ClientAuthentication):
    """A new access token (and refresh token: they rotate) for a refresh token (RFC 6749 section 6)."""

    grant_type: Literal["refresh_token"]
    refresh_token: str = Field(min_length=1)
    #: Fewer scopes than granted; absent: all of them.
    scope: str = _SCOPE


class DeviceCodeExchange(ClientAuthentication):
    """The device flow's poll (RFC 8628 section 3.4)."""

    grant_type: Literal[DEVICE_GRANT]  # type: ignore[valid-type]
    #: The `device_code` of `POST /oauth/device_authorization`.
    device_code: str = Field(min_length=1)
    client_id: str = Field(min_length=1)


class TokenRequest(RootModel[CodeExchange | RefreshExchange | DeviceCodeExchange]):
    """One of the three grants, by `grant_type`."""


class TokenAnswer(s.Shape):
    """RFC 6749 section 5.1 (sent with `Cache-Control: no-store`)."""

    #: Use it as `Authorization: Bearer dho_...` wherever a personal access token works.
    access_token: str = Field(pattern=_ACCESS_TOKEN)
    token_type: Literal["Bearer"]
    #: Seconds the access token lives (`dragonhoard.oauth.access_seconds`, an hour by default).
    expires_in: int = Field(ge=1)
    #: Lives 30 days; each use gives a new one, and the old one dies.
    refresh_token: str = Field(pattern=_REFRESH_TOKEN)
    #: The scopes granted, separated by spaces (maybe fewer than asked for, maybe none).
    scope: str


class OAuthError(s.Shape):
    """RFC 6749 section 5.2's error."""

    #: `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    #: `unsupported_grant_type`, `invalid_scope`, `unsupported_token_type`; while a
    #: device waits, `authorization_pending`, `slow_down`, `access_denied`, `expired_token`.
    error: str = Field(examples=["invalid_grant"])
    error_description: str = None
    error_uri: str = None
    #: The request's `state`, when it sent one.
    state: str = None


class OAuthRefusal(RootModel[OAuthError | Error]):
    """RFC 6749's error; a body that cannot be read at all gets the API's."""


class DeviceAuthorizationRequest(ClientAuthentication):
    client_id: str = Field(min_length=1)
    #: The scopes the device asks for; absent: none (the app may ask who the user is).
    scope: str = _SCOPE


class DeviceAuthorization(s.Shape):
    """RFC 8628 section 3.2 (sent with `Cache-Control: no-store`)."""

    #: The device's secret: poll `POST /oauth/token` with it.
    device_code: str
    #: Show it to the user, who types it at `verification_uri`: 8 consonants as XXXX-XXXX.
    user_code: str = Field(pattern=f"^{_USER_CODE_PART}-{_USER_CODE_PART}$", examples=["WDJB-MJHT"])
    #: `/device`: where the user (logged in) types the code and consents.
    verification_uri: str
    #: `/device?user_code=...`: the same with the code filled in (for a QR code or a link).
    verification_uri_complete: str
    #: Seconds both codes live.
    expires_in: int = Field(ge=1)
    #: Seconds to wait between polls (more after each `slow_down`).
    interval: int = Field(ge=1)
    #: The scopes asked for, when some were.
    scope: str = None


class TokenByValue(ClientAuthentication):
    #: An access token (`dho_`) or a refresh token (`dhr_`) issued to this app.
    token: str = Field(min_length=1)
    #: `access_token` or `refresh_token`; any other hint is ignored (RFC 7009 section 2.1:
    #: the search extends to every type), so it is any string here.
    token_type_hint: str = Field(None, examples=["refresh_token"])


class RevocationRequest(TokenByValue):
    """RFC 7009 section 2.1: a refresh token takes its grant's tokens with it."""


class IntrospectionRequest(TokenByValue):
    """RFC 7662 section 2.1: for a confidential app's own tokens."""


class InactiveToken(s.Shape):
    """Unknown, expired, revoked, another app's, or its user deactivated: nothing more is said."""

    active: Literal[False]


class ActiveToken(s.Shape):
    active: Literal[True]
    scope: str
    client_id: str
    #: The user's username, and their id as a string.
    username: str
    sub: str
    token_type: Literal["Bearer", "refresh_token"]
    #: Issued and expires at, seconds since the epoch.
    iat: int
    exp: int


class Introspection(RootModel[ActiveToken | InactiveToken]):
    """RFC 7662 section 2.2."""


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 section 2 (more members may come: ignore those you do not know)."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    introspection_endpoint: str
    device_authorization_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[Literal["code"]]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str] = None
    introspection_endpoint_auth_methods_supported: list[str] = None
    #: PKCE with S256 only: `plain` is refused.
    code_challenge_methods_supported: list[Literal["S256"]]
    service_documentation: str = None


def page_of(item: type[s.Shape]) -> type[s.Shape]:
    """Every list's envelope (``shapes.page_answer``), for one kind of item."""
    return create_model(
        f"{item.__name__}Page", __base__=s.Shape, __doc__=f"A page of {item.__name__} items, newest first.",
        items=(list[item], ...), page=(int, Field(ge=1)),
        per_page=(int, Field(ge=1, le=MAX_PER_PAGE)), total=(int, Field(ge=0)),
    )


PAGES = {shape: page_of(shape) for shape in
         (s.User, s.Treasure, s.Project, s.Member, s.Token, s.LoginSessionItem, s.Event, s.App,
          s.AuthorizedApp)}

# -- the rules validators add, stated where JSON Schema can say them ------------

#: What str.strip() strips (Unicode has no space past U+3000; a test checks).
_SPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def _char_class(chars: str, negated: bool) -> str:
    """A regex class of ``chars`` (plus NUL when negated), as \\uXXXX escapes:
    the same meaning in Python's re, ECMA 262 and Rust's regex."""
    codes = sorted({ord(c) for c in chars} | ({0} if negated else set()))
    parts, start = [], None
    for i, code in enumerate(codes):
        if start is None:
            start = code
        if i + 1 == len(codes) or codes[i + 1] != code + 1:
            parts.append(f"\\u{start:04x}" + ("" if start == code else f"-\\u{code:04x}"))
            start = None
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


_ANY = "[^\\u0000]*"                      # a run of anything but NUL
_INK = _char_class(_SPACE, negated=True)  # one character that is neither space nor NUL
NO_NUL = f"^{_ANY}$"
NOT_BLANK = f"^{_ANY}{_INK}{_ANY}$"
TWO_INKED = f"^{_ANY}{_INK}{_ANY}{_INK}{_ANY}$"
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_NETWORK = rf"^\s*{_OCTET}(\.{_OCTET}){{3}}(/(3[0-2]|[12]?[0-9]))?\s*$"
IPV6_NETWORK = r"^\s*[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?\s*$"


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


#: The domains email_validator refuses without a DNS look-up (reserved: .test, .local, ...).
SPECIAL_USE_DOMAIN = "@(.*\\.)?(" + "|".join(map(_any_case, SPECIAL_USE_DOMAIN_NAMES)) + ")$"


def _ascii_but(excluded: str) -> str:
    """One character of a URI (printable ASCII but the space) not in ``excluded``."""
    return _char_class("".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in excluded),
                       negated=False)


# The redirect URIs and homepages of OAuth apps (schemas/apps.py), as
# urllib.parse splits them: no fragment, no user information, a port of
# 0-65535 if any; an IPv6 host in brackets (no zone, no IPvFuture).
_H16 = "[0-9A-Fa-f]{1,4}"
_LS32 = rf"({_H16}:{_H16}|{_OCTET}(\.{_OCTET}){{3}})"
_IPV6_TAILS = [rf"({_H16}:){{{4 - n}}}{_LS32}" for n in range(5)] + [_H16, ""]
IPV6 = "(" + "|".join([rf"({_H16}:){{6}}{_LS32}", rf"::({_H16}:){{5}}{_LS32}"] + [
    rf"(({_H16}:){{0,{n}}}{_H16})?::{tail}" for n, tail in enumerate(_IPV6_TAILS)]) + ")"
_HOST = f"({_ascii_but('#/?@:[]')}+|\\[{IPV6}\\])"
_PORT = "(:(0*([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?)?"
_REST = f"([/?]{_ascii_but('#')}*)?"
_LOOPBACK = rf"(127\.0\.0\.1|\[::1\]|{_any_case('localhost')})"
HTTPS_URI = f"{_any_case('https')}://{_HOST}{_PORT}{_REST}"
LOOPBACK_URI = f"{_any_case('http')}://{_LOOPBACK}{_PORT}{_REST}"
#: A native app's own scheme (a reversed domain name), without authority.
APP_SCHEME_URI = f"[A-Za-z][A-Za-z0-9+-]*(\\.[A-Za-z0-9+-]+)+:/({_ascii_but('#/')}{_ascii_but('#')}*)?"
REDIRECT_URI = f"^({HTTPS_URI}|{LOOPBACK_URI}|{APP_SCHEME_URI})$"
#: What a confidential app may name: no app scheme.
SERVER_REDIRECT_URI = f"^({HTTPS_URI}|{LOOPBACK_URI})$"
_SPACES = _char_class(_SPACE, negated=False) + "*"
HOMEPAGE = f"^{_SPACES}({_any_case('http')}[sS]?://{_HOST}{_PORT}{_REST})?{_SPACES}$"

#: What each AfterValidator of a body adds to its field's schema.
VALIDATOR_SCHEMAS: dict[Any, dict] = {
    tr.check_text: {"pattern": NOT_BLANK, "description": "Not blank; kept without surrounding spaces."},
    tr.check_treasure_name: {"pattern": TWO_INKED,
                             "description": "At least 2 characters besides spaces."},
    tk.check_name: {"pattern": NOT_BLANK, "description": "Not blank; unique among your live tokens."},
    us.check_email: {"format": "email", "not": {"pattern": SPECIAL_USE_DOMAIN},
                     "description": "Checked for syntax only (no DNS look-up), a reserved domain "
                                    "(.test, .local, ...) refused; unique, case-insensitively."},
    tk.check_network: {"anyOf": [{"pattern": IPV4_NETWORK}, {"pattern": IPV6_NETWORK}],
                       "description": "An address or CIDR range, IPv4 or IPv6 (IPv4-mapped ranges "
                                      "are stored as the IPv4 range)."},
    tr.in_utc: {"description": "With a zone (Z or an offset); kept and shown in UTC."},
    us.SudoBody._exactly_one: {"oneOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in ("password", "totp_code", "webauthn")]},
    ap.check_redirect_uri: {"pattern": REDIRECT_URI, "description": (
        "Taken exactly as sent and matched character for character: `https://` with a host, "
        "`http://` on 127.0.0.1, [::1] or localhost only, or (public apps) an app scheme "
        "such as `com.example.app:/callback`; no fragment, no user information.")},
    ap.check_unique: {"uniqueItems": True},
    ap.check_homepage: {"pattern": HOMEPAGE, "description": (
        "Empty, or an http(s) address with a host; kept without surrounding spaces.")},
}
#: Rules of the services that the body models leave to them (same constants).
FIELD_SCHEMAS: dict[tuple[type[BaseModel], str], dict] = {
    (tr.TreasureCreate, "project"): {"pattern": SLUG_PATTERN, "description": "A project's slug "
                                     "(one you may add to: 422 otherwise), or null."},
    (tk.TokenCreate, "scopes"): {"items": {"enum": list(SCOPES)},
                                 "description": "Any of the scopes; admin only for admins."},
    (tk.TokenCreate, "expires_in_days"): {"enum": [*tk.EXPIRY_CHOICES, None],
                                          "description": "Days from now; null: never expires."},
    (tk.TokenCreate, "expires_at"): {"description": "Valid through this day (UTC), today or later."},
    (tk.TokenCreate, "projects"): {"description": "Absent: every project; a list (maybe empty): "
                                                  "only these, each one of yours."},
}
MODEL_SCHEMAS: dict[type[BaseModel], dict] = {
    tk.TokenCreate: {"not": {"required": ["expires_in_days", "expires_at"]}},
    # An app scheme is for public apps only (schemas/apps.private_scheme_errors).
    ap.AppCreate: {"anyOf": [
        {"required": ["confidential"], "properties": {"confidential": {"const": False}}},
        {"properties": {"redirect_uris": {"items": {"pattern": SERVER_REDIRECT_URI}}}}]},
}


class DocumentSchema(GenerateJsonSchema):
    """pydantic's generator, with the validators' rules added (see above)."""

    def function_after_schema(self, schema) -> dict:
        inner = self.generate_inner(schema["schema"])
        function = getattr(schema["function"]["function"], "__func__", schema["function"]["function"])
        if getattr(function, "func", function).__module__.startswith("pydantic"):
            return inner  # a Field constraint pydantic checks itself (it is in the schema)
        if function is Body._no_nul.__func__:
            return _without_nul(inner)
        if function not in VALIDATOR_SCHEMAS:
            raise LookupError(f"{function.__qualname__} validates a body: say in "
                              "openapi.VALIDATOR_SCHEMAS what it adds to the document")
        return _merge(inner, VALIDATOR_SCHEMAS[function])


def _merge(target: dict, extra: dict) -> dict:
    target = dict(target)
    for key, value in extra.items():
        if key in target and key in ("pattern", "anyOf", "format"):
            target.setdefault("allOf", []).append({key: value})
        elif key == "description" and key in target:
            target[key] = f"{target[key]} {value}"
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = _merge(target[key], value)
        else:
            target[key] = value
    return target


def _without_nul(schema: dict) -> dict:
    """Every plain string in ``schema`` refuses NUL, as ``Body`` does."""
    schema = dict(schema)
    if schema.get("type") == "string" and not {"format", "enum", "const", "pattern"} & schema.keys():
        schema["pattern"] = NO_NUL
    if isinstance(schema.get("items"), dict):
        schema["items"] = _without_nul(schema["items"])
    if "anyOf" in schema:
        schema["anyOf"] = [_without_nul(option) for option in schema["anyOf"]]
    return schema


# -- the operations ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    model: type[BaseModel] | None = None
    description: str = ""
    media_type: str = JSON
    #: Headers it may carry, and those it always carries.
    headers: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Op:
    method: str
    #: The route's pattern, as routes.py adds it.
    route: str
    operation_id: str
    summary: str
    tag: str
    permission: Permission
    answers: tuple[Answer, ...]
    body: type[BaseModel] | None = None
    example: dict | None = None
    query: tuple[str, ...] = ()
    #: Besides those every operation of its kind can give.
    errors: tuple[int, ...] = ()
    #: False: the answer is the same whoever calls (no security requirement).
    credentials: bool = True
    #: Exists only where the session source is on (dragonhoard.auth_sources).
    sessions: bool = False
    #: A scope that widens a public answer (public operations need none).
    widening_scope: str | None = None
    #: Called by an OAuth app, which authenticates itself (RFC 6749 section
    #: 2.3), never with a user's credentials; it answers by RFC 6749.
    client: bool = False
    #: The body's media type: JSON, or form data (the endpoints apps call).
    body_type: str = JSON
    description: str = ""
    links: dict = field(default_factory=dict)


def _ok(model, status: int = 200, **kw) -> Answer:
    return Answer(status, model, kw.pop("description", "Done."), **kw)


NO_CONTENT = Answer(204, None, "Done.")
PAGE = ("page", "per_page")
TREASURE_FILTERS = ("owner", "is_published")


def _link(operation_id: str, description: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


TREASURE_LINKS = {
    "GetTreasure": _link("getTreasure", "Read it back.", id="$response.body#/id"),
    "EditTreasure": _link("editTreasure", "Change it.", id="$response.body#/id"),
    "DeleteTreasure": _link("deleteTreasure", "Delete it.", id="$response.body#/id"),
}
PROJECT_LINKS = {
    "GetProject": _link("getProject", "Read it back.", slug="$response.body#/slug"),
    "EditProject": _link("editProject", "Change it.", slug="$response.body#/slug"),
    "ListMembers": _link("listMembers", "Its members.", slug="$response.body#/slug"),
    "ListProjectTreasures": _link("listProjectTreasures", "Its treasures.", slug="$response.body#/slug"),
    "CreateProjectTreasure": _link("createProjectTreasure", "Add a treasure.", slug="$response.body#/slug"),
    "DeleteProject": _link("deleteProject", "Delete it.", slug="$response.body#/slug"),
}
TOKEN_LINKS = {
    "RotateToken": _link("rotateToken", "Rotate it.", id="$response.body#/id"),
    "RevokeToken": _link("revokeToken", "Revoke it.", id="$response.body#/id"),
}
TREASURE_EXAMPLE = {"name": "Arkenstone", "description": "The Heart of the Mountain.", "value": 1000000,
                    "cool_factor": 10, "is_published": True, "plundered_at": "2941-11-23T12:00:00Z"}
PASSWORD_EXAMPLE = "a long passphrase of dragon fire"

LOGIN_TEXT = (
    "JSON only, from this origin only (403 for a foreign Origin); no CSRF token. Wrong "
    "credentials: 401 `invalid_credentials`, whether or not the account exists; repeated "
    "failures: 429 with Retry-After.")
CODE_EXAMPLE = {"code": "123456"}
_LOGGED_IN = _ok(LoginAnswer, description="Logged in: the session cookie is set.", required=("Set-Cookie",))
SECOND_FACTOR_LOGINS = (
    Op("POST", "/api/login/totp", "loginTotp", "The second step of a login: a TOTP code", "account",
       Permission.PUBLIC, (_LOGGED_IN,), body=mf.CodeBody, example=CODE_EXAMPLE, errors=(403, 429),
       credentials=False, sessions=True,
       description="With the pending-login cookie of `POST /api/login`. A wrong, used or replayed "
                   "code, or no pending login: 401 `invalid_credentials`. " + LOGIN_TEXT),
    Op("POST", "/api/login/recovery", "loginRecovery", "The second step of a login: a recovery code",
       "account", Permission.PUBLIC, (_LOGGED_IN,), body=mf.CodeBody,
       example={"code": "abcd-efgh-ijkl"}, errors=(403, 429), credentials=False, sessions=True,
       description="As `POST /api/login/totp`; each code works once."),
    Op("POST", "/api/login/webauthn/options", "loginWebAuthnOptions", "Options for a security "
       "key or passkey login", "account", Permission.PUBLIC, (_ok(WebAuthnOptions),), errors=(403,),
       credentials=False, sessions=True,
       description="For the pending login's account; without one, a passkey login by itself "
                   "(user verification required). Same origin only."),
    Op("POST", "/api/login/webauthn", "loginWebAuthn", "Log in with a security key or passkey",
       "account", Permission.PUBLIC, (_LOGGED_IN,), body=mf.WebAuthnAssertion,
       example={"credential": {"id": "...", "type": "public-key", "response": {}}}, errors=(403, 429),
       credentials=False, sessions=True,
       description="The assertion for the options' challenge; refused: 401 `invalid_credentials`."),
)
SECOND_FACTORS = (
    Op("GET", "/api/account/mfa", "getSecondFactors", "The caller's second factors", "account",
       Permission.ACCOUNT_MFA, (_ok(s.MfaStatus),), sessions=True),
    Op("POST", "/api/account/totp", "startTotp", "Start setting up an authenticator app", "account",
       Permission.ACCOUNT_MFA, (_ok(s.TotpEnrolment, 201, description="Not active until confirmed."),),
       errors=(409,), sessions=True,
       description="In sudo mode (403 `reauth_required`); 409 when one is already set up."),
    Op("POST", "/api/account/totp/confirm", "confirmTotp", "Confirm the authenticator app with a code",
       "account", Permission.ACCOUNT_MFA, (_ok(TotpConfirmed),), body=mf.CodeBody,
       example=CODE_EXAMPLE, errors=(409,), sessions=True,
       description="A wrong code is 422 on `code`; 409 when none is being set up."),
    Op("DELETE", "/api/account/totp", "deleteTotp", "Remove the authenticator app", "account",
       Permission.ACCOUNT_MFA, (NO_CONTENT,), errors=(404,), sessions=True,
       description="In sudo mode; 404 when there is none."),
    Op("POST", "/api/account/webauthn/options", "webAuthnRegistrationOptions",
       "Options for adding a security key or passkey", "account", Permission.ACCOUNT_MFA,
       (_ok(WebAuthnOptions),), sessions=True,
       description="In sudo mode. The challenge is single-use and lives 5 minutes."),
    Op("POST", "/api/account/webauthn", "addWebAuthn", "Add a security key or passkey", "account",
       Permission.ACCOUNT_MFA, (_ok(WebAuthnAdded, 201, description="The new credential."),),
       body=mf.WebAuthnRegistration, errors=(409,), sessions=True,
       example={"name": "yubikey", "credential": {"id": "...", "type": "public-key", "response": {}}},
       description="The browser's answer to the options; one not accepted is 422 on `credential`, "
                   "one already registered 409."),
    Op("DELETE", r"/api/account/webauthn/{id:[0-9]+}", "deleteWebAuthn", "Remove a security key",
       "account", Permission.ACCOUNT_MFA, (NO_CONTENT,), sessions=True, description="In sudo mode."),
    Op("POST", "/api/account/recovery-codes", "newRecoveryCodes", "A new set of recovery codes",
       "account", Permission.ACCOUNT_MFA, (_ok(RecoveryCodes, 201),), errors=(409,), sessions=True,
       description="In sudo mode; the old set dies. 409 without a second factor."),
)


# -- OAuth 2.1 (DESIGN section 15): the endpoints apps call, and the apps ----------

_CLIENT_ID_EXAMPLE = CLIENT_ID_PREFIX + "0" * 24
_NO_STORE = ("Cache-Control",)
_OAUTH_REFUSED = Answer(400, OAuthRefusal, "Refused by RFC 6749 section 5.2: `invalid_request`, "
                        "`invalid_grant`, `invalid_scope`, ... (`error_description` may say more).")
_CLIENT_REFUSED = Answer(401, OAuthError, "`invalid_client`: an unknown app, a wrong or missing "
                         "secret, a public app where only confidential ones may call, or two ways "
                         "of authenticating at once.", required=("WWW-Authenticate", "Cache-Control"))
_CLIENT_TEXT = ("Form data, no query string; no cookie or CSRF token: the app authenticates "
                "itself (see the `oauthClient` scheme).")
OAUTH_ENDPOINTS = (
    Op("GET", "/.well-known/oauth-authorization-server", "getOAuthMetadata",
       "The authorization server's metadata (RFC 8414)", "oauth", Permission.PUBLIC,
       (_ok(AuthorizationServerMetadata),), sessions=True,
       description="Absolute URLs on this server's origin; PKCE with `S256` only."),
    Op("POST", "/oauth/token", "oauthToken", "Tokens for an authorization code, a refresh token "
       "or a device code", "oauth", Permission.PUBLIC,
       (_ok(TokenAnswer, description="Issued.", required=_NO_STORE), _OAUTH_REFUSED, _CLIENT_REFUSED),
       body=TokenRequest, body_type=FORM, client=True, sessions=True,
       example={"grant_type": "authorization_code", "code": "...",
                "redirect_uri": "http://127.0.0.1:8765/callback", "code_verifier": "v" * 43,
                "client_id": _CLIENT_ID_EXAMPLE},
       description=(
           "`authorization_code`, with the PKCE `code_verifier`; `refresh_token`: rotated at "
           "every use, the old one dies, and one presented again revokes the whole grant, except "
           f"within {grants.REFRESH_GRACE.seconds} s of its first use, which gets the same answer "
           f"again (a retry); `{DEVICE_GRANT}`: the device flow's poll, 400 "
           "`authorization_pending` until the user decides, `slow_down` when polled sooner than "
           "`interval`, then `access_denied` or `expired_token`. " + _CLIENT_TEXT)),
    Op("POST", "/oauth/device_authorization", "oauthDeviceAuthorization",
       "Start the device flow (RFC 8628)", "oauth", Permission.PUBLIC,
       (_ok(DeviceAuthorization, description="The codes.", required=_NO_STORE), _OAUTH_REFUSED,
        _CLIENT_REFUSED,
        Answer(429, OAuthError, "`slow_down`: past 100 device authorizations an hour from one "
               "address; wait Retry-After seconds.", required=("Retry-After", "Cache-Control"))),
       body=DeviceAuthorizationRequest, body_type=FORM, client=True, sessions=True,
       example={"client_id": _CLIENT_ID_EXAMPLE, "scope": "treasure:read"},
       description=(
           "For a device without a browser (a command line, a TV). 1. The app asks here for a "
           "`device_code` and a `user_code`. 2. It shows the user the `user_code` and "
           "`verification_uri` (`/device`, a page where the user logs in, types the code and "
           "chooses the scopes and projects to grant) or `verification_uri_complete`. 3. "
           f"Meanwhile it polls `POST /oauth/token` with `grant_type={DEVICE_GRANT}` and the "
           "`device_code`, every `interval` seconds, until it gets the tokens or a final error. "
           "OpenAPI 3.1 has no flow for this: the `oauth2` scheme lists the code flow, whose "
           "tokens and scopes are the same. " + _CLIENT_TEXT)),
    Op("POST", "/oauth/revoke", "oauthRevoke", "Revoke a token (RFC 7009)", "oauth",
       Permission.PUBLIC,
       (Answer(200, None, "Revoked, or nothing to revoke (an unknown token, another app's): "
               "an empty body.", media_type=NO_BODY, required=_NO_STORE), _OAUTH_REFUSED, _CLIENT_REFUSED),
       body=RevocationRequest, body_type=FORM, client=True, sessions=True,
       example={"token": OAUTH_REFRESH_PREFIX + "...", "token_type_hint": "refresh_token",
                "client_id": _CLIENT_ID_EXAMPLE},
       description="An access token dies alone; a refresh token takes its grant, and every "
                   "token of it, with it. " + _CLIENT_TEXT),
    Op("POST", "/oauth/introspect", "oauthIntrospect", "What a token of the app's may do (RFC 7662)",
       "oauth", Permission.PUBLIC, (_ok(Introspection, required=_NO_STORE), _OAUTH_REFUSED,
                                    _CLIENT_REFUSED),
       body=IntrospectionRequest, body_type=FORM, client=True, sessions=True,
       example={"token": OAUTH_ACCESS_PREFIX + "...", "client_id": _CLIENT_ID_EXAMPLE,
                "client_secret": CLIENT_SECRET_PREFIX + "..."},
       description="For an app's resource servers: confidential apps only (a public app is 401 "
                   "`invalid_client`), their own tokens only. " + _CLIENT_TEXT),
)
APP_LINKS = {
    "GetApp": _link("getApp", "Read it back.", id="$response.body#/id"),
    "EditApp": _link("editApp", "Change it.", id="$response.body#/id"),
    "RotateAppSecret": _link("rotateAppSecret", "A new client secret.", id="$response.body#/id"),
    "DeleteApp": _link("deleteApp", "Delete it.", id="$response.body#/id"),
}
APP_EXAMPLE = {"name": "Hoard Organizer", "homepage": "https://organizer.example",
               "redirect_uris": ["https://organizer.example/callback"], "confidential": True}
APPS = (
    Op("GET", "/api/apps", "listApps", "The OAuth apps the caller registered", "apps",
       Permission.ACCOUNT, (_ok(PAGES[s.App]),), query=PAGE, sessions=True),
    Op("POST", "/api/apps", "createApp", "Register an OAuth app", "apps", Permission.ACCOUNT,
       (_ok(s.AppCreated, 201, description="The new app; a confidential one's `client_secret`, "
            "shown this once."),),
       body=ap.AppCreate, example=APP_EXAMPLE, errors=(409,), sessions=True, links=APP_LINKS,
       description="In sudo mode (403 `reauth_required`). An app scheme for a confidential app "
                   f"is 422 on `redirect_uris.N`; past {MAX_APPS_PER_USER} apps, 409."),
    Op("GET", r"/api/apps/{id:[0-9]+}", "getApp", "One of the caller's apps", "apps",
       Permission.ACCOUNT, (_ok(s.App),), sessions=True,
       description="Another user's app is 404, as a missing one."),
    Op("PATCH", r"/api/apps/{id:[0-9]+}", "editApp", "Change an app", "apps", Permission.ACCOUNT,
       (_ok(s.App),), body=ap.AppEdit, example={"name": "Hoard Organizer 2"}, sessions=True,
       description="In sudo mode. `confidential` is chosen at creation: here, as `id`, "
                   "`client_id` and `created_at`, an unknown field (422); an app scheme for a "
                   "confidential app is 422 on `redirect_uris.N`."),
    Op("DELETE", r"/api/apps/{id:[0-9]+}", "deleteApp", "Delete an app", "apps", Permission.ACCOUNT,
       (NO_CONTENT,), sessions=True,
       description="In sudo mode. Its grants, codes and tokens go with it, at once."),
    Op("POST", r"/api/apps/{id:[0-9]+}/secret", "rotateAppSecret", "A new client secret", "apps",
       Permission.ACCOUNT,
       (_ok(s.AppCreated, description="The app with its new `client_secret`, shown this once; "
            "the old secret stops at once."),),
       errors=(409,), sessions=True, description="In sudo mode; 409 for a public app, which has none."),
    Op("GET", "/api/account/apps", "listAuthorizedApps", "The apps the caller authorized", "apps",
       Permission.ACCOUNT, (_ok(PAGES[s.AuthorizedApp]),), query=PAGE, sessions=True,
       description="What each may do: the scopes and projects granted."),
    Op("DELETE", r"/api/account/apps/{id:[0-9]+}", "revokeAuthorizedApp",
       "Take back what an app was granted", "apps", Permission.ACCOUNT, (NO_CONTENT,), sessions=True,
       description="`id` is the app's (`app.id`). In sudo mode; its tokens stop working at once. "
                   "An app the caller never authorized is 404."),
)

OPERATIONS: tuple[Op, ...] = (
    Op("GET", "/api/openapi.json", "getOpenAPI", "This document", "meta", Permission.PUBLIC,
       (Answer(200, None, "The OpenAPI 3.1 document.", required=("ETag",)),
        Answer(304, None, "Unchanged since the ETag sent in If-None-Match.", required=("ETag",))),
       query=("If-None-Match",), credentials=False),
    Op("GET", "/api/docs", "getDocs", "This document, to browse", "meta", Permission.PUBLIC,
       (Answer(200, None, "An HTML page (Swagger UI).", media_type="text/html"),), credentials=False),
    Op("GET", "/healthz", "getHealth", "Whether the database answers", "meta", Permission.PUBLIC,
       (_ok(Health, description="The database answers."),
        Answer(503, Health, "The database does not answer.", required=("Retry-After",))),
       credentials=False),
    Op("GET", "/api/me", "getMe", "Who is calling, how, and with which scopes", "users",
       Permission.WHOAMI, (_ok(s.Me),),
       description="The email only with `user:read`; for an OAuth access token, the app."),
    Op("POST", "/api/users", "register", "Register (does not log in)", "users", Permission.PUBLIC,
       (_ok(s.User, 201, description="The new user."),), body=us.Registration,
       example={"email": "smaug@example.com", "username": "smaug", "password": PASSWORD_EXAMPLE},
       errors=(403, 409), credentials=False,
       description="The password must be strong enough (zxcvbn score and length limits of the "
                   "ini file): 422 on `password` otherwise.",
       links={"GetUser": _link("getUser", "The profile.", id="$response.body#/id")}),
    Op("GET", "/api/users", "findUser", "Find a user by username (0 or 1 item)", "users",
       Permission.USER_VIEW, (_ok(PAGES[s.User]),), query=("username",)),
    Op("GET", r"/api/users/{id:[0-9]+}", "getUser", "A profile", "users", Permission.USER_VIEW,
       (_ok(s.User),), description="The email for the user themself and admins only."),
    Op("PATCH", r"/api/users/{id:[0-9]+}", "editUser", "Change a username or email", "users",
       Permission.USER_EDIT, (_ok(s.User),), body=us.ProfileEdit, example={"username": "smaug"},
       errors=(409,),
       description="An email change needs a login session in sudo mode (403 `session_required` "
                   "for a token, 403 `reauth_required` outside sudo mode)."),
    Op("GET", "/api/treasures", "listTreasures", "The treasures the caller may view", "treasures",
       Permission.PUBLIC, (_ok(PAGES[s.Treasure]),), query=(*PAGE, "owner", "project", "is_published"),
       widening_scope="treasure:read"),
    Op("POST", "/api/treasures", "createTreasure", "Create a treasure", "treasures",
       Permission.TREASURE_CREATE, (_ok(s.Treasure, 201, description="The new treasure."),),
       body=tr.TreasureCreate, example=TREASURE_EXAMPLE, links=TREASURE_LINKS,
       description="In a project (`project`, a slug): editors and above; an unknown or unseen "
                   "project is 422 on `project`."),
    Op("GET", r"/api/treasures/{id:[0-9]+}", "getTreasure", "A treasure", "treasures",
       Permission.TREASURE_VIEW, (_ok(s.Treasure),)),
    Op("PATCH", r"/api/treasures/{id:[0-9]+}", "editTreasure", "Change a treasure", "treasures",
       Permission.TREASURE_EDIT, (_ok(s.Treasure),), body=tr.TreasureEdit,
       example={"value": 2000000, "is_published": False},
       description="`project` is taken at creation only: here it is an unknown field (422)."),
    Op("DELETE", r"/api/treasures/{id:[0-9]+}", "deleteTreasure", "Delete a treasure", "treasures",
       Permission.TREASURE_DELETE, (NO_CONTENT,)),
    Op("GET", "/api/projects", "listProjects", "The caller's projects", "projects",
       Permission.PROJECT_LIST, (_ok(PAGES[s.Project]),), query=PAGE,
       description="An admin's list holds every project, `role` null where not a member."),
    Op("POST", "/api/projects", "createProject", "Create a project (its creator is owner)", "projects",
       Permission.PROJECT_CREATE, (_ok(s.Project, 201, description="The new project."),),
       body=tr.ProjectCreate, errors=(409,), links=PROJECT_LINKS,
       example={"slug": "lonely-mountain", "name": "The Lonely Mountain", "description": "Erebor."},
       description="Not through a project-restricted token (403)."),
    Op("GET", "/api/projects/{slug}", "getProject", "A project", "projects", Permission.PROJECT_VIEW,
       (_ok(s.Project),)),
    Op("PATCH", "/api/projects/{slug}", "editProject", "Change a project", "projects",
       Permission.PROJECT_ADMIN, (_ok(s.Project),), body=tr.ProjectEdit,
       example={"name": "Erebor"}),
    Op("DELETE", "/api/projects/{slug}", "deleteProject", "Delete a project, its treasures and "
       "memberships", "projects", Permission.PROJECT_ADMIN, (NO_CONTENT,)),
    Op("GET", "/api/projects/{slug}/members", "listMembers", "A project's members", "projects",
       Permission.PROJECT_VIEW, (_ok(PAGES[s.Member]),), query=PAGE),
    Op("PUT", r"/api/projects/{slug}/members/{user_id:[0-9]+}", "putMember",
       "Add a member, or change their role", "projects", Permission.PROJECT_ADMIN,
       (_ok(s.Member, description="The role changed (or kept)."),
        _ok(s.Member, 201, description="The member added.")),
       body=tr.MemberRole, example={"role": "editor"}, errors=(409,),
       description="An unknown user is 404; demoting the last owner is 409."),
    Op("DELETE", r"/api/projects/{slug}/members/{user_id:[0-9]+}", "deleteMember",
       "Remove a member", "projects", Permission.PROJECT_ADMIN, (NO_CONTENT,), errors=(409,),
       description="Removing the last owner is 409."),
    Op("GET", "/api/projects/{slug}/treasures", "listProjectTreasures", "A project's treasures",
       "projects", Permission.PROJECT_VIEW, (_ok(PAGES[s.Treasure]),), query=(*PAGE, *TREASURE_FILTERS)),
    Op("POST", "/api/projects/{slug}/treasures", "createProjectTreasure",
       "Create a treasure in a project", "projects", Permission.PROJECT_TREASURE_CREATE,
       (_ok(s.Treasure, 201, description="The new treasure."),), body=tr.TreasureCreate,
       example=TREASURE_EXAMPLE, links=TREASURE_LINKS,
       description="`project`, if sent, must be this project's slug (422 otherwise)."),
    Op("GET", "/api/tokens/self", "getTokenSelf", "The calling token", "tokens",
       Permission.TOKEN_SELF, (_ok(s.Token),), errors=(404,),
       description="404 when the caller is not a token."),
    Op("DELETE", "/api/tokens/self", "revokeTokenSelf", "The calling token revokes itself", "tokens",
       Permission.TOKEN_SELF, (NO_CONTENT,), errors=(404,),
       description="404 when the caller is not a token."),
    Op("POST", "/api/credentials/revoke", "reportLeakedTokens", "Report leaked tokens", "tokens",
       Permission.PUBLIC, (_ok(LeakReportAnswer, 202, description="Every live token named is revoked."),),
       body=tk.LeakReport, errors=(429,), credentials=False,
       example={"tokens": [PREFIX + "0" * (RANDOM_LENGTH + CHECKSUM_LENGTH)]},
       description="No authentication; the same answer whatever it found. Throttled per client "
                   "address (429 with Retry-After)."),
    # Login sessions only.
    Op("POST", "/api/login", "login", "Log in (the app's own JavaScript)", "account", Permission.PUBLIC,
       (_ok(LoginResult, description="Logged in (the session cookie is set), or the second "
            "factor is to come (the pending-login cookie is set).", required=("Set-Cookie",)),),
       body=us.Login, example={"email": "smaug@example.com", "password": PASSWORD_EXAMPLE},
       errors=(403, 429), credentials=False, sessions=True, description=LOGIN_TEXT),
    *SECOND_FACTOR_LOGINS,
    Op("POST", "/api/logout", "logout", "Log out", "account", Permission.ACCOUNT_MFA,
       (Answer(204, None, "The session is revoked and its cookie cleared.", required=("Set-Cookie",)),),
       sessions=True),
    Op("POST", "/api/sudo", "sudo", "Enter the password again (sudo mode)", "account",
       Permission.ACCOUNT_MFA, (_ok(SudoAnswer),), body=us.SudoBody,
       example={"password": PASSWORD_EXAMPLE}, errors=(429,), sessions=True,
       description="The password, a TOTP code, or a WebAuthn assertion (after `POST "
                   "/api/sudo/webauthn/options`). A wrong password is 403 `invalid_password` and "
                   "counts as a failed login; a wrong code 403 too."),
    Op("POST", "/api/sudo/webauthn/options", "sudoWebAuthnOptions", "Options for sudo by a "
       "security key", "account", Permission.ACCOUNT_MFA, (_ok(WebAuthnOptions),), errors=(409,),
       sessions=True, description="409 when the account has no security key or passkey."),
    *SECOND_FACTORS,
    Op("POST", "/api/account/password", "changePassword", "Change the password", "account",
       Permission.ACCOUNT,
       (Answer(204, None, "Changed; the other sessions are revoked, this one gets a new cookie.",
               required=("Set-Cookie",)),),
       body=us.PasswordChange, errors=(429,), sessions=True,
       example={"current_password": PASSWORD_EXAMPLE, "new_password": PASSWORD_EXAMPLE + " and gold"},
       description="In sudo mode (403 `reauth_required`); a wrong `current_password` is 403 "
                   "`invalid_password`; a weak new one 422."),
    Op("GET", "/api/sessions", "listSessions", "The caller's live login sessions", "sessions",
       Permission.ACCOUNT, (_ok(PAGES[s.LoginSessionItem]),), query=PAGE, sessions=True),
    Op("DELETE", "/api/sessions", "revokeOtherSessions", "Revoke every session but this one",
       "sessions", Permission.ACCOUNT, (NO_CONTENT,), sessions=True),
    Op("DELETE", r"/api/sessions/{id:[0-9]+}", "revokeSession", "Revoke a session", "sessions",
       Permission.ACCOUNT, (Answer(204, None, "Revoked (this one's cookie is cleared).",
                                   headers=("Set-Cookie",)),), sessions=True),
    Op("GET", "/api/events", "listEvents", "The caller's own security log", "account",
       Permission.ACCOUNT, (_ok(PAGES[s.Event]),), query=PAGE, sessions=True),
    Op("GET", "/api/tokens", "listTokens", "The caller's tokens, revoked and expired ones too",
       "tokens", Permission.ACCOUNT, (_ok(PAGES[s.Token]),), query=PAGE, sessions=True),
    Op("POST", "/api/tokens", "createToken", "Create a token (shown once)", "tokens",
       Permission.ACCOUNT, (_ok(s.TokenCreated, 201, description="The new token and its secret."),),
       body=tk.TokenCreate, errors=(409,), sessions=True, links=TOKEN_LINKS,
       example={"name": "deploy", "scopes": ["treasure:read", "treasure:create"], "expires_in_days": 30},
       description="In sudo mode (403 `reauth_required`). Neither expiry sent: 30 days, or the "
                   "maximum lifetime where that is shorter."),
    Op("DELETE", r"/api/tokens/{id:[0-9]+}", "revokeToken", "Revoke a token", "tokens",
       Permission.ACCOUNT, (NO_CONTENT,), sessions=True, description="In sudo mode."),
    Op("POST", r"/api/tokens/{id:[0-9]+}/rotate", "rotateToken", "Rotate a token", "tokens",
       Permission.ACCOUNT, (_ok(s.TokenRotated, 201, description="The new token and its secret."),),
       errors=(409,), sessions=True, links=TOKEN_LINKS,
       description="In sudo mode. The old one is revoked at once; a revoked or expired one is 409."),
    *APPS,
    *OAUTH_ENDPOINTS,
)

# -- parameters -------------------------------------------------------------------

PATH_PARAMETER_SCHEMAS = {"slug": {"type": "string", "pattern": SLUG_PATTERN}}
PATH_PARAMETER_DESCRIPTIONS = {
    "id": "A whole number; any other form is an unknown path (404).",
    "user_id": "A user's id; any other form is an unknown path (404).",
    "slug": "The project's slug; one no project can have is not found (404).",
}
QUERY_PARAMETERS: dict[str, dict] = {
    "page": {"in": "query", "description": "From 1.",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    "per_page": {"in": "query", "description": f"Larger than {MAX_PER_PAGE} counts as {MAX_PER_PAGE}.",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                            "default": DEFAULT_PER_PAGE}},
    "owner": {"in": "query", "description": "Only this user's treasures.",
              "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
    "project": {"in": "query", "description": "Only this project's treasures (a slug). A project "
                "the caller cannot see gives its published treasures; an unknown slug, none.",
                "schema": {"type": "string"}},
    "is_published": {"in": "query", "schema": {"type": "boolean"}},
    "username": {"in": "query", "description": "The exact username, compared case-insensitively.",
                 "schema": {"type": "string"}},
    "If-None-Match": {"in": "header", "description": "The ETag of a copy you hold.",
                      "schema": {"type": "string"}},
}
ROUTE_PARAMETER = re.compile(r"{(\w+)(?::([^}]*))?}")


def openapi_path(route: str) -> str:
    """``/api/treasures/{id:[0-9]+}`` -> ``/api/treasures/{id}``."""
    return ROUTE_PARAMETER.sub(lambda m: "{" + m.group(1) + "}", route)


def _path_parameters(route: str) -> list[dict]:
    parameters = []
    for name, regex in ROUTE_PARAMETER.findall(route):
        schema = PATH_PARAMETER_SCHEMAS.get(name) or {"type": "string", "pattern": f"^{regex}$"}
        parameters.append({"name": name, "in": "path", "required": True,
                           "description": PATH_PARAMETER_DESCRIPTIONS[name], "schema": schema})
    return parameters


# -- security -----------------------------------------------------------------------

GRANTEE_WORDS = {
    "everyone": "anyone, anonymous callers too",
    "everyone-if-published": "anyone when it is published",
    "authenticated": "any authenticated caller",
    "owner": "its owner (for a profile: the user themself)",
    "project:viewer": "viewers, editors and owners of its project",
    "project:editor": "editors and owners of its project",
    "project:owner": "owners of its project",
    "admin": "admins",
}


def _anonymous_allowed(op: Op) -> bool:
    return any(g.startswith("everyone") for g in RULES[op.permission].grantees)


def _scope(op: Op) -> str | None:
    return RULES[op.permission].scope or op.widening_scope


def _security(op: Op, sessions: bool) -> list[dict]:
    if op.client:
        return [{"oauthClient": []}, {}]  # {}: client_secret_post, or a public app's client_id
    if not op.credentials:
        return []
    rule = RULES[op.permission]
    requirements: list[dict] = [{}] if _anonymous_allowed(op) else []
    if not rule.session_only:
        scopes = [_scope(op)] if _scope(op) else []
        requirements.append({"bearer": scopes})
        if sessions:  # the authorization server is on where sessions are
            requirements.append({"oauth2": scopes})
    if sessions:
        requirements.append({"session": [], "csrf": []} if op.method in UNSAFE else {"session": []})
    return requirements


def _who_may(op: Op) -> str:
    rule = RULES[op.permission]
    words = ", ".join(GRANTEE_WORDS[g] for g in rule.grantees)
    parts = [f"Who may: {words}."]
    scope = _scope(op)
    if scope and rule.scope:
        parts.append(f"A token needs the `{scope}` scope.")
    elif scope:
        parts.append(f"A token shows more with the `{scope}` scope.")
    if rule.session_only:
        parts.append("Login sessions only: a token gets 403 `session_required`.")
    if rule.unrestricted_only:
        parts.append("Not through a project-restricted token.")
    return " ".join(parts)


# -- answers --------------------------------------------------------------------------

HEADERS = {
    "WWW-Authenticate": {"description": 'RFC 6750\'s challenge: `Bearer realm="dragonhoard"`, with '
                         "`error`, `error_description` and `scope` when a token was refused.",
                         "schema": {"type": "string", "pattern": "^Bearer realm=\"dragonhoard\""}},
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 0}},
    "Dragonhoard-Token-Expires": {
        "description": "On every answer a token authenticated when it expires within 7 days "
                       "(its expires_at, ISO 8601 UTC).",
        "schema": {"type": "string", "format": "date-time"}},
    "Allow": {"description": "The methods the path answers.", "schema": {"type": "string"}},
    "ETag": {"description": "This document's version.", "schema": {"type": "string"}},
    "Set-Cookie": {"description": "The session cookie (HttpOnly, SameSite=Lax).",
                   "schema": {"type": "string"}},
}
ERRORS = {
    400: ("BadRequest", "Malformed: the body is not a JSON object, the URL or Content-Length "
          "cannot be read, or `invalid_request`: a malformed Authorization header or a token in "
          "the query string (with WWW-Authenticate).", ("WWW-Authenticate",)),
    401: ("Unauthorized", "No credentials where some are needed (challenge without error), "
          "another scheme, or a token refused: `invalid_token` (unknown, expired, revoked, "
          "mis-checksummed, owner deactivated, address not allowed); a failed login is "
          "`invalid_credentials`.", ("WWW-Authenticate",)),
    403: ("Forbidden", "The caller's roles do not allow it (`forbidden`), the token lacks the "
          "scope (`insufficient_scope`, with WWW-Authenticate), a token on a session-only route "
          "(`session_required`), a missing or wrong CSRF token or a foreign Origin "
          "(`csrf_failed`), sudo mode needed (`reauth_required`), a wrong password "
          "(`invalid_password`) or code (`invalid_code`), or a second factor needed first "
          "(`mfa_required`).",
          ("WWW-Authenticate",)),
    404: ("NotFound", "Missing, or hidden from the caller: both answer alike.", ()),
    405: ("MethodNotAllowed", "The path does not answer this method.", ("Allow",)),
    409: ("Conflict", "A duplicate, or a rule of the data (the last owner, a dead token).", ()),
    413: ("TooLarge", "The body is larger than the configured limit (1 MiB by default).", ()),
    415: ("WrongMediaType", "The body is not application/json.", ()),
    422: ("Invalid", "Values that break the rules; `fields` says which and why.", ()),
    429: ("Throttled", "Too many attempts; wait Retry-After seconds.", ("Retry-After",)),
    503: ("Unavailable", "The database cannot be reached; try again after Retry-After seconds.",
          ("Retry-After",)),
}
ERROR_REQUIRED_HEADERS = {401: {"WWW-Authenticate"}, 405: {"Allow"}, 429: {"Retry-After"},
                          503: {"Retry-After"}}
#: The headers of the endpoints apps call, where they differ from the API's.
CLIENT_HEADERS = {
    "WWW-Authenticate": {"description": 'RFC 6749 section 5.2: `Basic realm="dragonhoard"` '
                         "when the app tried HTTP Basic, `Bearer realm=\"dragonhoard\"` otherwise.",
                         "schema": {"type": "string", "pattern": '^(Basic|Bearer) realm="dragonhoard"$'}},
    "Cache-Control": {"description": "`no-store`: never cached (RFC 6749 section 5.1).",
                      "schema": {"type": "string", "const": "no-store"}},
}


def _header_refs(names=(), required=(), *, expiry: bool = True, client: bool = False) -> dict:
    headers: dict[str, dict] = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
    specs = {**HEADERS, **CLIENT_HEADERS} if client else HEADERS
    headers.update({name: dict(specs[name], required=True) for name in required})
    if expiry:
        headers["Dragonhoard-Token-Expires"] = {"$ref": "#/components/headers/Dragonhoard-Token-Expires"}
    return headers


def _error_responses() -> dict:
    responses = {}
    for status, (name, description, headers) in ERRORS.items():
        required = ERROR_REQUIRED_HEADERS.get(status, ())
        responses[name] = {
            "description": description,
            "headers": _header_refs([h for h in headers if h not in required], required,
                                    expiry=status not in (400, 401)),
            "content": {JSON: {"schema": {"$ref": REF.format(model="Error")}}},
        }
    return responses


def _error_statuses(op: Op) -> list[int]:
    statuses = {400, 401, 503, *op.errors}
    if op.client:  # oauthlib answers the rest (400, 401), whatever the media type
        return sorted(statuses | {413})
    if op.body is not None:
        statuses |= {413, 415, 422}
    if any(name in ("page", "per_page", "owner", "is_published") for name in op.query):
        statuses.add(422)
    if ROUTE_PARAMETER.search(op.route):
        statuses.add(404)
    if not _anonymous_allowed(op) or RULES[op.permission].scope or (op.credentials and op.method in UNSAFE):
        statuses.add(403)
    return sorted(statuses)


def _answer(answer: Answer, refs: dict, *, client: bool = False) -> dict:
    out: dict[str, Any] = {"description": answer.description or "Done."}
    # An app's own credentials are never a token that could be expiring.
    out["headers"] = _header_refs(answer.headers, answer.required, expiry=not client, client=client)
    if answer.media_type == NO_BODY:
        return out
    if answer.model is not None:
        out["content"] = {answer.media_type: {"schema": refs[answer.model]}}
    elif answer.media_type != JSON:
        out["content"] = {answer.media_type: {"schema": {"type": "string"}}}
    elif answer.status == 200:  # the document itself
        out["content"] = {JSON: {"schema": {"type": "object"}}}
    return out


def _operation(op: Op, refs: dict, sessions: bool) -> dict:
    who_may = "" if op.client else _who_may(op)
    description = " ".join(part for part in (op.description, who_may) if part)
    out: dict[str, Any] = {
        "operationId": op.operation_id, "summary": op.summary, "description": description,
        "tags": [op.tag], "security": _security(op, sessions),
    }
    parameters = _path_parameters(op.route)
    for name in op.query:
        spec = QUERY_PARAMETERS[name]
        parameters.append({"name": name, **spec})
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        content: dict[str, Any] = {"schema": refs[op.body]}
        if op.example is not None:
            op.body.model_validate_json(orjson.dumps(op.example))  # an example that is no body fails here
            content["example"] = op.example
        out["requestBody"] = {"required": True, "content": {op.body_type: content}}
    responses: dict[str, Any] = {}
    for answer in op.answers:
        responses[str(answer.status)] = _answer(answer, refs, client=op.client)
        if op.links and answer.status in (200, 201):
            responses[str(answer.status)]["links"] = op.links
    for status in _error_statuses(op):
        if str(status) in responses:
            continue
        if op.route.startswith("/api/") or op.route in OAUTH_APP_PATHS:
            responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
        else:  # outside /api/, refusals are pages (those made before routing are JSON)
            responses[str(status)] = {"description": ERRORS[status][1], "content": {
                "text/html": {"schema": {"type": "string"}},
                JSON: {"schema": {"$ref": REF.format(model="Error")}}}}
    out["responses"] = dict(sorted(responses.items()))
    return out


# -- the components -------------------------------------------------------------------


@functools.cache  # read once: every build in a process says the same
def _field_comments(model: type[BaseModel]) -> dict[str, str]:
    """The ``#:`` comment above each field (the project's way of documenting one)."""
    comments: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls.__module__.startswith("pydantic"):
            continue
        try:
            lines = inspect.getsource(cls).splitlines()
        except (OSError, TypeError):
            continue
        pending: list[str] = []
        for line in lines:
            text = line.strip()
            if text.startswith("#:"):
                pending.append(text[2:].strip())
                continue
            match = re.match(r"(\w+)\s*:", text)
            if match and pending:
                comments[match.group(1)] = " ".join(pending)
            pending = []
    return comments


def _tidy(model: type[BaseModel], schema: dict) -> dict:
    """Field descriptions from comments; no ``default: null`` where null is refused."""
    comments = _field_comments(model)
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if "default" in prop and prop["default"] is None and not _allows_null(prop):
            del prop["default"]
        if name in comments and "description" not in prop:
            prop["description"] = comments[name]
        if (model, name) in FIELD_SCHEMAS:
            schema["properties"][name] = _refine(prop, FIELD_SCHEMAS[(model, name)])
    schema.update(MODEL_SCHEMAS.get(model, {}))
    return schema


def _refine(prop: dict, extra: dict) -> dict:
    """``extra`` applied to the non-null branch of a nullable field, or to the field."""
    extra = dict(extra)
    description = extra.pop("description", None)
    enum = extra.pop("enum", None)
    if "anyOf" in prop and extra:
        prop = dict(prop, anyOf=[_merge(o, extra) if o.get("type") != "null" else o for o in prop["anyOf"]])
    elif extra:
        prop = _merge(prop, extra)
    if enum is not None:
        prop = {key: value for key, value in prop.items() if key not in ("anyOf", "type")}
        prop["enum"] = enum
    if description:
        prop["description"] = description
    return prop


def _allows_null(schema: dict) -> bool:
    return schema.get("type") == "null" or any(_allows_null(o) for o in schema.get("anyOf", ()))


def _components(ops: list[Op]) -> tuple[dict, dict]:
    """The schemas of every body and answer of ``ops``, and each model's $ref."""
    models: list[type[BaseModel]] = [Error]
    for op in ops:
        for model in (op.body, *(answer.model for answer in op.answers)):
            if model is not None and model not in models:
                models.append(model)
    pairs = [(m, "validation" if issubclass(m, Body) else "serialization") for m in models]
    keys, schemas = models_json_schema(pairs, ref_template=REF, schema_generator=DocumentSchema)
    defs = schemas["$defs"]
    by_name = {cls.__name__: cls for cls in _models_of(models)}
    for name, schema in defs.items():
        if name in by_name:
            _tidy(by_name[name], schema)
    return defs, {model: keys[(model, mode)] for model, mode in pairs}


def _models_of(models: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """``models`` and the models their fields hold (a User in Me, ...)."""
    found: list[type[BaseModel]] = []
    pending = list(models)
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.append(model)
        for info in model.model_fields.values():
            for arg in _type_args(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    pending.append(arg)
    return found


def _type_args(annotation) -> list:
    args = [annotation]
    for arg in getattr(annotation, "__args__", ()):
        args.extend(_type_args(arg))
    return args


SECURITY_SCHEMES_TEXT = {
    "bearer": (
        f"A personal access token in `Authorization: Bearer {PREFIX}...`: `{PREFIX}` followed by "
        f"{RANDOM_LENGTH} random base62 characters and {CHECKSUM_LENGTH} base62 characters of CRC32 "
        f"over them ({len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH} characters); one with a wrong "
        "checksum is refused without a look-up. Its scopes limit what it may do; the scopes of "
        "each operation are listed in its security requirement."),
    "session": (
        "The login session cookie (HttpOnly, SameSite=Lax), set by `POST /api/login` or the login "
        "form: `dh_session` in development, `__Host-dh_session` with secure cookies (production). "
        "A session holds every scope (`admin` for admins only)."),
    "csrf": (
        "The CSRF token (`csrf_token` of the login answer, or the pages' "
        "`<meta name=\"csrf-token\">`): unsafe requests (POST, PUT, PATCH, DELETE) made with the "
        "session cookie send it in this header, from this origin."),
}


AUTHORIZATION_REQUEST_TEXT = (
    "**The code flow.** The app sends the user's browser to `GET /oauth/authorize` with "
    "`response_type=code`, `client_id`, `redirect_uri` (one of the app's, exactly), `scope` "
    "(separated by spaces), `state`, `code_challenge` and `code_challenge_method=S256` (PKCE is "
    "required; `plain` is refused). There the user, logged in, sees the consent page: they may "
    "uncheck scopes and choose the projects the app reaches (all, some or none), then allow or "
    "deny. The browser comes back to `redirect_uri` with `code` and `state`, or `error` "
    "(`access_denied`, `invalid_scope`, ...) and `state`; a consent given before to all of "
    "this comes back at once. An unknown `client_id` or `redirect_uri` is an error page, never "
    "a redirect. The app then exchanges the code, within "
    f"{grants.CODE_LIFETIME.seconds} s and once, at `POST /oauth/token` with its "
    "`code_verifier`.")
DEVICE_FLOW_TEXT = (
    "**The device flow** (RFC 8628; OpenAPI 3.1 has no flow type for it): `POST "
    "/oauth/device_authorization` gives a `device_code` and a `user_code`; the user types the "
    "code at `/device`; the app polls `POST /oauth/token` with "
    f"`grant_type={DEVICE_GRANT}`. The same tokens and scopes.")


def _oauth_schemes() -> dict[str, dict]:
    """OAuth apps' access tokens (the user's side), and the apps' own credentials."""
    scopes = dict(SCOPES)
    return {
        "oauth2": {"type": "oauth2", "description": " ".join((
            f"An OAuth access token (`{OAUTH_ACCESS_PREFIX}...`, the format of a personal "
            "token) in `Authorization: Bearer`, issued to an app a user authorized: it works "
            "wherever a personal access token does, with the user's roles AND the granted "
            "scopes AND the granted projects (refused like one: RFC 6750). Access tokens live "
            f"`expires_in` seconds; refresh tokens (`{OAUTH_REFRESH_PREFIX}...`) "
            f"{grants.REFRESH_LIFETIME.days} days, rotated at every use. The server's metadata: "
            "`GET /.well-known/oauth-authorization-server` (RFC 8414). Register apps with "
            "`POST /api/apps`.", AUTHORIZATION_REQUEST_TEXT, DEVICE_FLOW_TEXT)),
            "flows": {"authorizationCode": {
                "authorizationUrl": "/oauth/authorize", "tokenUrl": "/oauth/token",
                "refreshUrl": "/oauth/token", "scopes": scopes}}},
        "oauthClient": {"type": "http", "scheme": "basic", "description": (
            "An OAuth app calling `/oauth/token`, `/oauth/revoke`, `/oauth/introspect` or "
            "`/oauth/device_authorization`: a confidential app sends its `client_id` and "
            "`client_secret` (`dhs_...`) in HTTP Basic (client_secret_basic, each "
            "form-urlencoded) or in the form (client_secret_post), never both; a public app "
            "(PKCE alone) sends its `client_id` in the form. A refusal is 401 `invalid_client`.")},
    }


def build_document(auth_sources: tuple[str, ...], session_cookie_name: str) -> dict:
    """The document of the routes this configuration has (sessions on or off)."""
    sessions = "session" in auth_sources
    ops = [op for op in OPERATIONS if sessions or not op.sessions]
    schemas, refs = _components(ops)
    paths: dict[str, dict] = {}
    for op in ops:
        paths.setdefault(openapi_path(op.route), {})[op.method.lower()] = _operation(op, refs, sessions)
    schemes: dict[str, dict] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": f"{PREFIX}...",
                   "description": SECURITY_SCHEMES_TEXT["bearer"]},
    }
    if sessions:
        schemes["session"] = {"type": "apiKey", "in": "cookie", "name": session_cookie_name,
                              "description": SECURITY_SCHEMES_TEXT["session"]}
        schemes["csrf"] = {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                           "description": SECURITY_SCHEMES_TEXT["csrf"]}
        schemes.update(_oauth_schemes())  # the authorization server is on where sessions are
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dragonhoard",
            "version": metadata.version("dragonhoard"),
            "summary": "Dragons keep treasures, alone or in shared projects.",
            "description": (
                "Errors are `{\"error\", \"message\", \"fields\"?}` (the OAuth endpoints apps "
                "call answer RFC 6749's `{\"error\", \"error_description\"?}`). Refused "
                "credentials answer by RFC 6750. A method a path does not answer is 405 with `Allow` "
                "(#/components/responses/MethodNotAllowed); an unknown path under /api/ is a "
                "JSON 404. Every list is `{\"items\", \"page\", \"per_page\", \"total\"}`, "
                "newest first. Times are ISO 8601 in UTC."),
        },
        "tags": [{"name": name} for name in
                 ("treasures", "projects", "users", "tokens", "account", "sessions", "apps",
                  "oauth", "meta")],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": _error_responses(),
            "headers": HEADERS,
            "securitySchemes": schemes,
        },
    }


@dataclass(frozen=True)
class Document:
    """The document as served: its bytes (the same on every process) and ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, document: dict) -> Document:
        body = orjson.dumps(document)
        return cls(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def document_for(settings) -> Document:
    """Built from the application's settings (``Settings``)."""
    return Document.of(build_document(settings.auth_sources, settings.session_cookie_name))
