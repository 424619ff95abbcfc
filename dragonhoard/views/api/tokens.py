"""``/api/tokens``: managing personal access tokens. Session only, sudo mode for
changes (a bearer token reads and revokes itself in credentials.py)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...models import ApiToken, User
from ...resources import NotFound, path_id
from ...schemas import ValidationFailed, parse_json, reauth_required
from ...schemas.pagination import page_json, page_params
from ...schemas.tokens import EXPIRY_CHOICES, TokenCreate
from ...security.permissions import Permission
from ...security.sudo import in_sudo
from ...services.tokens import (
    Expiry,
    TokenRequest,
    create_token,
    list_tokens,
    owned_token,
    revoke_token,
    rotate_token,
    rotation_json,
    token_json,
)


def require_sudo(request) -> None:
    if not in_sudo(request.identity):
        raise reauth_required()


def token_request(body: TokenCreate) -> TokenRequest:
    """A validated create body as the service's request (the pages' form too)."""
    return TokenRequest(name=body.name, scopes=body.scopes, expiry=expiry_from(body),
                        projects=body.projects, allowed_networks=body.allowed_networks)


def expiry_from(body: TokenCreate) -> Expiry:
    """What the body asks for: ``expires_in_days`` (null: never), ``expires_at``
    or neither; both is 422."""
    sent = body.model_fields_set
    if "expires_in_days" in sent and "expires_at" in sent:
        message = "Send expires_in_days or expires_at, not both."
        raise ValidationFailed({"expires_in_days": message, "expires_at": message})
    if "expires_at" in sent:
        if body.expires_at is None:
            raise ValidationFailed({"expires_at": "Give a date (YYYY-MM-DD)."})
        return Expiry(on_date=body.expires_at)
    if "expires_in_days" in sent:
        if body.expires_in_days is None:
            return Expiry(never=True)
        return Expiry(days=body.expires_in_days)
    return Expiry()


@view_config(route_name="api.tokens", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def tokens_list(request):
    page, per_page = page_params(request)
    rows, total = list_tokens(request.dbsession, request.identity.user_id, page=page, per_page=per_page)
    return page_json([token_json(token) for token in rows], page, per_page, total)


@view_config(route_name="api.tokens", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def token_create(request):
    require_sudo(request)
    body = parse_json(request, TokenCreate)
    owner = request.dbsession.get(User, request.identity.user_id)
    token, secret = create_token(
        request.dbsession, owner, token_request(body),
        max_days=request.settings.token_max_lifetime_days, allowed_days=EXPIRY_CHOICES,
    )
    request.bookkeeping.audit("token:created", owner.id, token_id=token.id, name=token.name,
                              scopes=token.scope_list)
    request.response.status = 201
    return token_json(token, secret=secret)


def owned_token_or_404(request) -> ApiToken:
    """The caller's token named in the path (another user's is not found)."""
    token = owned_token(request.dbsession, request.identity.user_id, path_id(request))
    if token is None:
        raise NotFound()
    return token


@view_config(route_name="api.token", request_method="DELETE", permission=Permission.ACCOUNT)
def token_revoke(request):
    require_sudo(request)
    token = owned_token_or_404(request)
    if revoke_token(token):
        request.bookkeeping.audit("token:revoked", token.owner_id, token_id=token.id, name=token.name)
    return HTTPNoContent()


@view_config(route_name="api.token.rotate", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def token_rotate(request):
    require_sudo(request)
    old = owned_token_or_404(request)
    owner = request.dbsession.get(User, old.owner_id)
    rotation = rotate_token(request.dbsession, owner, old,
                            max_days=request.settings.token_max_lifetime_days)
    request.bookkeeping.audit("token:rotated", owner.id, token_id=rotation.token.id,
                              rotated_from=old.id, name=rotation.token.name)
    request.response.status = 201
    return rotation_json(rotation)
