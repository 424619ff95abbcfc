"""Every answer shape of the JSON API, defined once (DESIGN section 7).

Each model here is what a client relies on: it shapes the answer (the
builders below it, and the fast path's statements, which select a shape's
columns in its order) and describes it (the OpenAPI document). Builders
return plain dicts: validating every answer through pydantic would cost
the hot path more than the rest of a request.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["viewer", "editor", "owner"]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


def fields_of(shape: type[Shape]) -> tuple[str, ...]:
    return tuple(shape.model_fields)


class User(Shape):
    """A profile; ``email`` only for the user themself and admins."""

    id: int
    username: str
    email: str | None = None
    is_admin: bool
    created_at: datetime


class Treasure(Shape):
    id: int
    name: str
    description: str
    value: int
    cool_factor: int
    is_published: bool
    owner_id: int
    #: The project's slug, or null.
    project: str | None
    plundered_at: datetime
    created_at: datetime


class Project(Shape):
    slug: str
    name: str
    description: str
    created_at: datetime
    #: The caller's role; null for an admin who is not a member.
    role: Role | None
    #: Members without a second factor are refused its private data (403 ``mfa_required``).
    require_mfa: bool


class Member(Shape):
    user_id: int
    username: str
    role: Role


class TokenFields(Shape):
    """What every answer about a token holds."""

    id: int
    name: str
    #: The token's first 12 characters (``dhp_`` + 8), to recognise it by.
    display_prefix: str
    scopes: list[str]
    #: The projects it is restricted to; null: unrestricted.
    projects: list[str] | None
    allowed_networks: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenFields):
    """The answer of a create: the secret, this once."""

    token: str


class Dropped(Shape):
    """What today's rules took off a rotated token."""

    scopes: list[str]
    projects: list[str]


class TokenRotated(TokenCreated):
    rotated_from: int
    dropped: Dropped


class Token(TokenFields):
    """A token in lists and at ``/api/tokens/self``: no secret."""

    revoked_at: datetime | None
    last_used_ip: str | None
    rotated_from: int | None


class App(Shape):
    """An OAuth app its owner registered (DESIGN section 15); no secret."""

    id: int
    #: Public: it travels in URLs (``dhc_`` + 24 characters).
    client_id: str
    name: str
    homepage: str
    #: Matched exactly at /oauth/authorize.
    redirect_uris: list[str]
    #: True: the app authenticates with its client secret; false: a public app (PKCE alone).
    confidential: bool
    created_at: datetime


class AppCreated(App):
    """A create's or a secret rotation's answer: a confidential app's secret, this once."""

    #: Absent for a public app, which has none.
    client_secret: str = None


class AuthorizedAppInfo(Shape):
    id: int
    name: str
    homepage: str


class AuthorizedApp(Shape):
    """An app the caller authorized: what they granted it."""

    app: AuthorizedAppInfo
    scopes: list[str]
    #: The projects it is restricted to; null: every project.
    projects: list[str] | None
    #: When the caller first granted it.
    created_at: datetime
    #: The latest use of a token issued under the grant, or of the grant.
    last_used_at: datetime | None


class LoginSessionItem(Shape):
    id: int
    created_at: datetime
    last_seen_at: datetime
    #: The earlier of the idle and the absolute limit, as of now.
    expires_at: datetime
    ip: str | None
    user_agent: str
    current: bool


class Event(Shape):
    """A line of the caller's security log; ``details`` never holds a secret."""

    id: int
    kind: str
    created_at: datetime
    ip: str | None
    details: dict[str, Any]


class MeApp(Shape):
    id: int
    name: str


class Me(Shape):
    """Who is calling, and how: a login session, a personal access token or an OAuth app's."""

    user: User
    auth: Literal["session", "token", "oauth"]
    scopes: list[str]
    #: For an OAuth access token (``"auth": "oauth"``): the app it was issued to.
    app: MeApp = None


class WebAuthnCredential(Shape):
    """A passkey or a security key of the caller's."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    #: A discoverable credential: it logs in by itself, without the password.
    passkey: bool


class MfaStatus(Shape):
    totp: bool
    webauthn: list[WebAuthnCredential]
    recovery_codes_left: int
    #: Whether this account must have a second factor (the instance's rule,
    #: or a project of theirs that requires one).
    required: bool


class TotpEnrolment(Shape):
    """An authenticator app being set up: not active until confirmed."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class MfaRequired(Shape):
    """A right password; the second factor is to come (the pending-login cookie is set)."""

    mfa_required: Literal[True]
    methods: list[Literal["webauthn", "totp", "recovery"]]


TREASURE_FIELDS = fields_of(Treasure)
PROJECT_FIELDS = fields_of(Project)


def user_answer(user: Any, *, with_email: bool) -> dict:
    """``user``: a User row or an Identity (both have these attributes)."""
    data = {"id": user.id, "username": user.username, "is_admin": user.is_admin,
            "created_at": user.created_at}
    if with_email:
        data["email"] = user.email
    return data


def treasure_answer(row: tuple) -> dict:
    """From a row that starts with the treasure's columns in shape order."""
    return dict(zip(TREASURE_FIELDS, row, strict=False))


def treasure_answer_of(treasure: Any, project_slug: str | None) -> dict:
    """From an ORM Treasure (a create)."""
    data = {field: getattr(treasure, field) for field in TREASURE_FIELDS if field != "project"}
    data["project"] = project_slug
    return {field: data[field] for field in TREASURE_FIELDS}


def project_answer(row: tuple) -> dict:
    """From a row that starts with the project's columns in shape order."""
    return dict(zip(PROJECT_FIELDS, row, strict=False))


def member_answer(user_id: int, username: str, role: str) -> dict:
    return {"user_id": user_id, "username": username, "role": role}


def page_answer(items: list, page: int, per_page: int, total: int) -> dict:
    """Every list: ``{"items", "page", "per_page", "total"}``."""
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def _token_fields(token: Any) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "display_prefix": token.display_prefix,
        "scopes": token.scope_list,
        "projects": [link.project.slug for link in token.project_links] if token.is_restricted else None,
        "allowed_networks": token.network_list,
        "expires_at": token.expires_at,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
    }


def token_answer(token: Any) -> dict:
    """A token in lists and at ``/api/tokens/self`` (an ApiToken row)."""
    data = _token_fields(token)
    data.update(revoked_at=token.revoked_at, last_used_ip=token.last_used_ip,
                rotated_from=token.rotated_from)
    return data


def token_created_answer(token: Any, secret: str) -> dict:
    data = _token_fields(token)
    data["token"] = secret
    return data


def token_rotated_answer(token: Any, secret: str, *, dropped_scopes: list[str],
                         dropped_projects: list[str]) -> dict:
    data = token_created_answer(token, secret)
    data["rotated_from"] = token.rotated_from
    data["dropped"] = {"scopes": dropped_scopes, "projects": dropped_projects}
    return data


def app_answer(app: Any) -> dict:
    """An app (an OAuthApp row), without its secret."""
    return {"id": app.id, "client_id": app.client_id, "name": app.name, "homepage": app.homepage,
            "redirect_uris": app.redirect_uri_list, "confidential": app.confidential,
            "created_at": app.created_at}


def app_created_answer(app: Any, secret: str | None) -> dict:
    """A create's or a rotation's answer: ``client_secret`` for a confidential app only."""
    data = app_answer(app)
    if secret is not None:
        data["client_secret"] = secret
    return data


def authorized_app_answer(item: Any) -> dict:
    """From services.oauth.AuthorizedApp (a grant, its app, projects, last use)."""
    return {
        "app": {"id": item.app.id, "name": item.app.name, "homepage": item.app.homepage},
        "scopes": item.grant.scope_list,
        "projects": item.projects,
        "created_at": item.grant.created_at,
        "last_used_at": item.last_used_at,
    }


def login_session_answer(row: Any, current_id: int | None, idle_seconds: int) -> dict:
    return {
        "id": row.id,
        "created_at": row.created_at,
        "last_seen_at": row.last_seen_at,
        "expires_at": min(row.expires_at, row.last_seen_at + timedelta(seconds=idle_seconds)),
        "ip": row.ip,
        "user_agent": row.user_agent,
        "current": row.id == current_id,
    }


def event_answer(event: Any) -> dict:
    return {"id": event.id, "kind": event.kind, "created_at": event.created_at, "ip": event.ip,
            "details": event.details or {}}


def webauthn_credential_answer(row: Any) -> dict:
    return {"id": row.id, "name": row.name, "created_at": row.created_at,
            "last_used_at": row.last_used_at, "passkey": row.is_passkey}


def mfa_status_answer(status: Any, *, required: bool) -> dict:
    return {
        "totp": status.totp,
        "webauthn": [webauthn_credential_answer(row) for row in status.credentials],
        "recovery_codes_left": status.recovery_codes_left,
        "required": required,
    }


def totp_enrolment_answer(enrolment: Any) -> dict:
    return {"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg": enrolment.qr_svg}


def me_answer(identity: Any) -> dict:
    """Who is calling, how, and with which scopes (the email only with
    ``user:read``); an OAuth token names its app."""
    answer = {
        "user": user_answer(identity, with_email="user:read" in identity.scopes),
        "auth": identity.via,
        "scopes": sorted(identity.scopes),
    }
    if identity.via == "oauth":
        answer["app"] = {"id": identity.token.app_id, "name": identity.token.app_name}
    return answer
