"""The ``/tokens`` page: create (shown once), list, rotate, revoke. Session only;
changes need the password entered recently (sudo mode)."""
from __future__ import annotations

from datetime import timedelta

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from ... import clock
from ...errors import Conflict, Invalid, MfaRequired
from ...models import Membership, Project, User
from ...schemas import validate
from ...schemas.tokens import EXPIRY_CHOICES, TokenCreate
from ...security.permissions import ADMIN_SCOPE, SCOPES, Permission
from ...security.sudo import in_sudo
from ...security.tokens import EXPIRY_NOTICE
from ...services.tokens import (
    Rotation,
    TokenRequest,
    check_second_factor,
    create_token,
    default_lifetime_days,
    list_tokens,
    revoke_token,
    rotate_token,
    token_request,
)
from ..api.tokens import owned_token_or_404
from .account import sudo_prompt
from .auth import render_form

#: The form's words for an expiry its own controls would not send.
FORM_MESSAGES = {
    "expires_in_days": "Choose how long the token lives.",
    "expires_at": "Give a date (YYYY-MM-DD).",
}


def _projects_for(request, user: User) -> list[Project]:
    query = select(Project).order_by(Project.slug)
    if not user.is_admin:
        query = query.join(Membership, Membership.project_id == Project.id).where(
            Membership.user_id == user.id
        )
    return list(request.dbsession.scalars(query))


def render_tokens(request, status: int = 200, errors=None, values=None):
    user = request.dbsession.get(User, request.identity.user_id)
    tokens, _total = list_tokens(request.dbsession, user.id)
    now = clock.now()
    max_days = request.settings.token_max_lifetime_days
    return render_form(
        request, "tokens.jinja2", status,
        tokens=tokens,
        now=now,
        soon=now + EXPIRY_NOTICE,
        notice_seconds=EXPIRY_NOTICE.total_seconds(),
        notice_days=EXPIRY_NOTICE.days,
        scopes={s: text for s, text in SCOPES.items() if s != ADMIN_SCOPE or user.is_admin},
        expiry_choices=[d for d in EXPIRY_CHOICES if max_days is None or d <= max_days],
        # What "neither" means: 30 days, or the maximum where that is shorter.
        default_days=default_lifetime_days(max_days),
        allow_never=max_days is None,
        max_date=(now.date() + timedelta(days=max_days)).isoformat() if max_days else "",
        today=now.date().isoformat(),
        projects=_projects_for(request, user),
        in_sudo=in_sudo(request.identity),
        # dragonhoard.mfa.required = tokens: no token without a second factor.
        needs_factor=_needs_factor(request),
        errors=errors or {},
        values=values or {"expiry": "", "scopes": []},
    )


def _needs_factor(request) -> bool:
    try:
        check_second_factor(request.identity.has_mfa, request.settings.mfa_required)
    except MfaRequired:
        return True
    return False


def show_once(request, token, secret: str, heading: str, dropped: str | None = None):
    response = render_form(request, "token_created.jinja2", 201, token=token, secret=secret,
                           heading=heading, dropped=dropped)
    # The secret must not be kept by any cache, the browser's included.
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="tokens", request_method="GET", permission=Permission.ACCOUNT)
def tokens_page(request):
    return render_tokens(request)


def _form_values(post) -> dict:
    """The create form's fields as sent."""
    return {
        "name": post.get("name", ""),
        "scopes": post.getall("scopes"),
        "expiry": post.get("expiry", ""),
        "expires_on": post.get("expires_on", ""),
        "restrict": post.get("restrict"),
        "projects": post.getall("projects"),
        "networks": post.get("networks", ""),
    }


def _form_body(values: dict) -> dict:
    """The form as the body ``POST /api/tokens`` takes, so that every field
    passes the same validation as there."""
    body = {
        "name": values["name"],
        "scopes": values["scopes"],
        "allowed_networks": values["networks"].split(),
    }
    if values["restrict"] is not None:
        body["projects"] = values["projects"]
    expiry = values["expiry"]
    if expiry == "never":
        body["expires_in_days"] = None
    elif expiry == "date":
        body["expires_at"] = values["expires_on"]
    elif expiry:
        # A short number is a number of days; anything else is refused as sent.
        number = expiry.isascii() and expiry.isdigit() and len(expiry) < 6
        body["expires_in_days"] = int(expiry) if number else expiry
    return body


def _form_errors(fields: dict[str, str]) -> dict[str, str]:
    """The body's field errors (``allowed_networks.0``) under the form's names."""
    errors: dict[str, str] = {}
    for location, message in fields.items():
        name = location.split(".", 1)[0]
        errors.setdefault(name, FORM_MESSAGES.get(name, message))
    return errors


def _form_request(values: dict) -> TokenRequest:
    """The create form as a TokenRequest; field errors as ValidationFailed."""
    if values["restrict"] not in (None, "on"):
        raise Invalid({"projects": "Tick the box, or leave it."})
    try:
        return token_request(validate(TokenCreate, _form_body(values)))
    except Invalid as exc:
        raise Invalid(_form_errors(exc.fields)) from None


def _shown(value):
    """A value to fill the form in again with, NUL characters made visible."""
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


@view_config(route_name="tokens", request_method="POST", permission=Permission.ACCOUNT)
def token_create_submit(request):
    if _needs_factor(request):
        return render_tokens(request, 403)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("tokens"), 403,
                           "Enter your password to create a token.")
    values = _form_values(request.POST)
    shown = {name: _shown(value) for name, value in values.items()}
    try:
        wanted = _form_request(values)
        user = request.dbsession.get(User, request.identity.user_id)
        token, secret = create_token(
            request.dbsession, request.bookkeeping, user, wanted,
            max_days=request.settings.token_max_lifetime_days, allowed_days=EXPIRY_CHOICES,
        )
    except Invalid as exc:
        return render_tokens(request, 400, errors=exc.fields, values=shown)
    except Conflict as exc:
        return render_tokens(request, 409, errors={exc.field or "name": exc.message}, values=shown)
    return show_once(request, token, secret, "Your new token")


@view_config(route_name="tokens.revoke", request_method="GET", permission=Permission.ACCOUNT)
def token_revoke_confirm(request):
    return render_form(request, "token_revoke.jinja2", token=owned_token_or_404(request))


@view_config(route_name="tokens.revoke", request_method="POST", permission=Permission.ACCOUNT)
def token_revoke_submit(request):
    token = owned_token_or_404(request)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("tokens.revoke", id=token.id), 403,
                           "Enter your password to revoke a token.")
    if revoke_token(request.bookkeeping, token):
        request.session.flash(f"The token “{token.name}” is revoked.")
    return HTTPSeeOther(location=request.route_path("tokens"))


@view_config(route_name="tokens.rotate", request_method="POST", permission=Permission.ACCOUNT)
def token_rotate_submit(request):
    old = owned_token_or_404(request)
    if _needs_factor(request):
        return render_tokens(request, 403)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("tokens"), 403,
                           "Enter your password to rotate a token.")
    user = request.dbsession.get(User, old.owner_id)
    try:
        rotation = rotate_token(request.dbsession, request.bookkeeping, user, old,
                                max_days=request.settings.token_max_lifetime_days)
    except Conflict as exc:
        request.session.flash(exc.message)
        return HTTPSeeOther(location=request.route_path("tokens"))
    return show_once(request, rotation.token, rotation.secret, "Your rotated token",
                     dropped=dropped_sentence(rotation))


def dropped_sentence(rotation: Rotation) -> str | None:
    """What today's rules took off the rotated token, in a sentence (None: nothing)."""
    parts = []
    for kind, names in (("scope", rotation.dropped_scopes), ("project", rotation.dropped_projects)):
        if names:
            parts.append(f"the {kind}{'s' if len(names) > 1 else ''} {', '.join(names)}")
    if not parts:
        return None
    return f"Rotating applies today's rules: the new token no longer has {' or '.join(parts)}."
