"""What a token may do about itself, and leak reports from anyone."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...errors import Throttled
from ...models import ApiToken
from ...resources import NotFound
from ...schemas import parse_json
from ...schemas.shapes import token_answer
from ...schemas.tokens import LeakReport
from ...security.permissions import Permission
from ...services.oauth import revoke_leaked_refresh_tokens
from ...services.tokens import revoke_leaked, revoke_token


def _calling_token(request) -> ApiToken:
    identity = request.identity
    if identity.token is None:
        raise NotFound()
    return request.dbsession.get(ApiToken, identity.token.id)


@view_config(route_name="api.token.self", request_method="GET", renderer="json",
             permission=Permission.TOKEN_SELF)
def token_self(request):
    return token_answer(_calling_token(request))


@view_config(route_name="api.token.self", request_method="DELETE", permission=Permission.TOKEN_SELF)
def token_self_revoke(request):
    token = _calling_token(request)
    revoke_token(request.bookkeeping, token, by="itself")
    return HTTPNoContent()


@view_config(route_name="api.credentials.revoke", request_method="POST", renderer="json",
             permission=Permission.PUBLIC, require_csrf=False)
def leak_report(request):
    """Anyone may report tokens found in public: 202 whatever was found."""
    decision = request.throttle.leak_report(request)
    if not decision.allowed:
        raise Throttled(decision.retry_after, "Too many reports; try again later.")
    body = parse_json(request, LeakReport)
    revoke_leaked(request.dbsession, request.bookkeeping, body.tokens)
    revoke_leaked_refresh_tokens(request.dbsession, request.bookkeeping, body.tokens)
    request.response.status = 202
    return {"status": "accepted", "message": "Every live token named in the report is revoked."}

