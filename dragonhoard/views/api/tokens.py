"""``/api/tokens``: managing personal access tokens. Session only, sudo mode for
changes (a bearer token reads and revokes itself in credentials.py)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...models import ApiToken, User
from ...resources import NotFound, path_id
from ...schemas import parse_json
from ...schemas.pagination import page_params
from ...schemas.shapes import page_answer, token_answer, token_created_answer, token_rotated_answer
from ...schemas.tokens import EXPIRY_CHOICES, TokenCreate
from ...security.permissions import Permission
from ...security.sudo import require_sudo
from ...services.tokens import (
    check_second_factor,
    create_token,
    list_tokens,
    owned_token,
    revoke_token,
    rotate_token,
    token_request,
)


@view_config(route_name="api.tokens", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def tokens_list(request):
    page, per_page = page_params(request)
    rows, total = list_tokens(request.dbsession, request.identity.user_id, page=page, per_page=per_page)
    return page_answer([token_answer(token) for token in rows], page, per_page, total)


@view_config(route_name="api.tokens", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def token_create(request):
    require_token_factor(request)
    require_sudo(request)
    body = parse_json(request, TokenCreate)
    owner = request.dbsession.get(User, request.identity.user_id)
    token, secret = create_token(
        request.dbsession, request.bookkeeping, owner, token_request(body),
        max_days=request.settings.token_max_lifetime_days, allowed_days=EXPIRY_CHOICES,
        mfa_required=request.settings.mfa_required,
    )
    request.response.status = 201
    return token_created_answer(token, secret)


def require_token_factor(request) -> None:
    """Before sudo: entering the password again would not help (DESIGN section 14)."""
    check_second_factor(request.identity.has_mfa, request.settings.mfa_required)


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
    revoke_token(request.bookkeeping, token)
    return HTTPNoContent()


@view_config(route_name="api.token.rotate", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def token_rotate(request):
    require_token_factor(request)
    require_sudo(request)
    old = owned_token_or_404(request)
    owner = request.dbsession.get(User, old.owner_id)
    rotation = rotate_token(request.dbsession, request.bookkeeping, owner, old,
                            max_days=request.settings.token_max_lifetime_days,
                            mfa_required=request.settings.mfa_required)
    request.response.status = 201
    return token_rotated_answer(rotation.token, rotation.secret,
                                dropped_scopes=rotation.dropped_scopes,
                                dropped_projects=rotation.dropped_projects)
