"""``/api/apps``: the OAuth apps a user registered; ``/api/account/apps``: the
apps a user authorized (DESIGN section 15). Session only (a bearer token gets
403 ``session_required``), sudo mode for every change.

- Create answers 201 with ``client_secret`` (confidential apps only); a
  secret rotation answers 200, the same app with its new ``client_secret``
  (the app is changed, not replaced: edits answer 200). Rotating a public
  app's secret is 409: it has none.
- Past ``MAX_APPS_PER_USER`` apps a create is 409: the body is fine, the
  state of the data refuses it (as a duplicate name is for tokens).
- Another user's app answers 404 like a missing one; revoking an app the
  caller never authorized is 404 too.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent
from pyramid.view import view_config

from ...errors import Conflict
from ...models import OAuthApp, User
from ...models.locks import lock_row
from ...resources import NotFound, path_id
from ...schemas import parse_json
from ...schemas.apps import AppCreate, AppEdit, private_scheme_errors
from ...schemas.pagination import page_params
from ...schemas.shapes import app_answer, app_created_answer, authorized_app_answer, page_answer
from ...security.permissions import Permission
from ...security.sudo import require_sudo
from ...services.apps import (
    MAX_APPS_PER_USER,
    AppRequest,
    change_app,
    count_apps,
    create_app,
    delete_app,
    list_apps,
    owned_app,
    rotate_secret,
)
from ...services.oauth import authorized_apps, revoke_app_for

PUBLIC_HAS_NO_SECRET = "A public app has no client secret."


def owned_app_or_404(request) -> OAuthApp:
    """The caller's app named in the path (another user's is not found)."""
    app = owned_app(request.dbsession, request.identity.user_id, path_id(request))
    if app is None:
        raise NotFound()
    return app


def register_app(request, body: AppCreate) -> tuple[OAuthApp, str | None]:
    """Create the caller's app from a valid body (the pages share it): Invalid
    for an app scheme on a confidential app, Conflict past the limit."""
    private_scheme_errors(body.redirect_uris, body.confidential)
    user_id = request.identity.user_id
    # Check-then-act: two creates at once must not both pass the count.
    lock_row(request.dbsession, User, user_id)
    if count_apps(request.dbsession, user_id) >= MAX_APPS_PER_USER:
        raise Conflict(f"You have {MAX_APPS_PER_USER} apps, the most there may be: delete one first.")
    wanted = AppRequest(name=body.name, homepage=body.homepage, redirect_uris=body.redirect_uris,
                        confidential=body.confidential)
    return create_app(request.dbsession, request.bookkeeping, user_id, wanted)


def edit_app(request, app: OAuthApp, body: AppEdit) -> list[str]:
    """Apply an edit (the pages share it); the fields that changed."""
    if body.redirect_uris is not None:
        private_scheme_errors(body.redirect_uris, app.confidential)
    return change_app(request.bookkeeping, app, **body.model_dump(exclude_unset=True))


@view_config(route_name="api.apps", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def apps_list(request):
    page, per_page = page_params(request)
    rows, total = list_apps(request.dbsession, request.identity.user_id, page=page, per_page=per_page)
    return page_answer([app_answer(app) for app in rows], page, per_page, total)


@view_config(route_name="api.apps", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def app_create(request):
    require_sudo(request)
    app, secret = register_app(request, parse_json(request, AppCreate))
    request.response.status = 201
    return app_created_answer(app, secret)


@view_config(route_name="api.app", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def app_get(request):
    return app_answer(owned_app_or_404(request))


@view_config(route_name="api.app", request_method="PATCH", renderer="json",
             permission=Permission.ACCOUNT)
def app_edit(request):
    require_sudo(request)
    app = owned_app_or_404(request)
    edit_app(request, app, parse_json(request, AppEdit))
    return app_answer(app)


@view_config(route_name="api.app", request_method="DELETE", permission=Permission.ACCOUNT)
def app_delete(request):
    require_sudo(request)
    delete_app(request.dbsession, request.bookkeeping, owned_app_or_404(request))
    return HTTPNoContent()


@view_config(route_name="api.app.secret", request_method="POST", renderer="json",
             permission=Permission.ACCOUNT)
def app_secret_rotate(request):
    require_sudo(request)
    app = owned_app_or_404(request)
    if not app.confidential:
        raise Conflict(PUBLIC_HAS_NO_SECRET)
    secret = rotate_secret(request.dbsession, request.bookkeeping, app)
    return app_created_answer(app, secret)


@view_config(route_name="api.account.apps", request_method="GET", renderer="json",
             permission=Permission.ACCOUNT)
def authorized_list(request):
    page, per_page = page_params(request)
    items = authorized_apps(request.dbsession, request.identity.user_id)
    # Every list is newest first (DESIGN section 7); the service sorts by name.
    items.sort(key=lambda item: (item.grant.created_at, item.grant.id), reverse=True)
    start = (page - 1) * per_page
    return page_answer([authorized_app_answer(item) for item in items[start:start + per_page]],
                       page, per_page, len(items))


@view_config(route_name="api.account.app", request_method="DELETE", permission=Permission.ACCOUNT)
def authorized_revoke(request):
    require_sudo(request)
    if not revoke_app_for(request.dbsession, request.bookkeeping, request.identity.user_id,
                          path_id(request)):
        raise NotFound()
    return HTTPNoContent()
