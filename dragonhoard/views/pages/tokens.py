"""The ``/tokens`` page: create (shown once), list, rotate, revoke. Session only;
changes need the password entered recently (sudo mode)."""
from __future__ import annotations

from datetime import date, timedelta

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from ... import clock
from ...models import Membership, Project, User
from ...schemas import ValidationFailed
from ...schemas.tokens import EXPIRY_CHOICES, check_name, check_network
from ...security.permissions import ADMIN_SCOPE, SCOPES, Permission
from ...security.sudo import in_sudo
from ...services import Conflict
from ...services.tokens import (
    DEFAULT_LIFETIME_DAYS,
    Expiry,
    TokenRequest,
    create_token,
    list_tokens,
    revoke_token,
    rotate_token,
)
from ..api.tokens import owned_token_or_404
from .account import sudo_prompt
from .auth import render_form

EXPIRY_WARNING = timedelta(days=7)


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
        soon=now + EXPIRY_WARNING,
        scopes={s: text for s, text in SCOPES.items() if s != ADMIN_SCOPE or user.is_admin},
        expiry_choices=[d for d in EXPIRY_CHOICES if max_days is None or d <= max_days],
        # What "neither" means: 30 days, or the maximum where that is shorter.
        default_days=DEFAULT_LIFETIME_DAYS if max_days is None else min(DEFAULT_LIFETIME_DAYS, max_days),
        allow_never=max_days is None,
        max_date=(now.date() + timedelta(days=max_days)).isoformat() if max_days else "",
        today=now.date().isoformat(),
        projects=_projects_for(request, user),
        in_sudo=in_sudo(request.identity),
        errors=errors or {},
        values=values or {"expiry": "", "scopes": []},
    )


def show_once(request, token, secret: str, heading: str):
    response = render_form(request, "token_created.jinja2", 201, token=token, secret=secret,
                           heading=heading)
    # The secret must not be kept by any cache, the browser's included.
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="tokens", request_method="GET", permission=Permission.ACCOUNT)
def tokens_page(request):
    return render_tokens(request)


def _form_request(post) -> tuple[TokenRequest, dict]:
    """The create form as a TokenRequest; field errors as ValidationFailed."""
    values = {
        "name": post.get("name", ""),
        "scopes": post.getall("scopes"),
        "expiry": post.get("expiry", ""),
        "expires_on": post.get("expires_on", ""),
        "restrict": post.get("restrict") == "on",
        "projects": post.getall("projects"),
        "networks": post.get("networks", ""),
    }
    errors: dict[str, str] = {}
    try:
        name = check_name(values["name"])
        if len(name) > 100:
            raise ValueError("Use at most 100 characters.")
    except ValueError as exc:
        errors["name"] = str(exc)
        name = ""
    expiry = Expiry()  # the default lifetime, when nothing was chosen
    if values["expiry"] == "":
        pass
    elif values["expiry"] == "never":
        expiry = Expiry(never=True)
    elif values["expiry"] == "date":
        try:
            expiry = Expiry(on_date=date.fromisoformat(values["expires_on"]))
        except ValueError:
            errors["expires_at"] = "Give a date (YYYY-MM-DD)."
    elif values["expiry"].isascii() and values["expiry"].isdigit() and len(values["expiry"]) < 6:
        expiry = Expiry(days=int(values["expiry"]))
    else:
        errors["expires_in_days"] = "Choose how long the token lives."
    networks = []
    for line in values["networks"].split():
        try:
            networks.append(check_network(line))
        except ValueError as exc:
            errors["allowed_networks"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return TokenRequest(
        name=name,
        scopes=values["scopes"],
        expiry=expiry,
        projects=values["projects"] if values["restrict"] else None,
        allowed_networks=networks,
    ), values


@view_config(route_name="tokens", request_method="POST", permission=Permission.ACCOUNT)
def token_create_submit(request):
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("tokens"), 403,
                           "Enter your password to create a token.")
    values = {}
    try:
        token_request, values = _form_request(request.POST)
        user = request.dbsession.get(User, request.identity.user_id)
        token, secret = create_token(
            request.dbsession, user, token_request,
            max_days=request.settings.token_max_lifetime_days, allowed_days=EXPIRY_CHOICES,
        )
    except ValidationFailed as exc:
        return render_tokens(request, 400, errors=exc.fields, values=values or None)
    except Conflict as exc:
        return render_tokens(request, 409, errors={exc.field or "name": exc.message}, values=values)
    request.bookkeeping.audit("token:created", user.id, token_id=token.id, name=token.name,
                              scopes=token.scope_list)
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
    if revoke_token(token):
        request.bookkeeping.audit("token:revoked", token.owner_id, token_id=token.id, name=token.name)
        request.session.flash(f"The token “{token.name}” is revoked.")
    return HTTPSeeOther(location=request.route_path("tokens"))


@view_config(route_name="tokens.rotate", request_method="POST", permission=Permission.ACCOUNT)
def token_rotate_submit(request):
    old = owned_token_or_404(request)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("tokens"), 403,
                           "Enter your password to rotate a token.")
    user = request.dbsession.get(User, old.owner_id)
    try:
        token, secret = rotate_token(request.dbsession, user, old,
                                     max_days=request.settings.token_max_lifetime_days)
    except Conflict as exc:
        request.session.flash(exc.message)
        return HTTPSeeOther(location=request.route_path("tokens"))
    request.bookkeeping.audit("token:rotated", user.id, token_id=token.id, rotated_from=old.id,
                              name=token.name)
    return show_once(request, token, secret, "Your rotated token")
