"""The OAuth app pages (DESIGN section 15): ``/apps`` (the caller's apps and
the form that registers one), ``/apps/{id}`` (see, edit, rotate the secret,
delete) and ``/account/apps`` (the apps the caller authorized, to revoke).
Session only; every change needs sudo mode, as on ``/tokens``. The forms
pass the JSON bodies' validation (schemas/apps.py) and the API's helpers,
so that both say yes and no alike.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...errors import Conflict, Invalid
from ...models import OAuthApp
from ...resources import NotFound, path_id
from ...schemas import validate
from ...schemas.apps import AppCreate, AppEdit
from ...security.permissions import SCOPES, Permission
from ...security.sudo import in_sudo
from ...services.apps import delete_app, list_apps, rotate_secret
from ...services.oauth import authorized_apps, revoke_app_for
from ..api.apps import PUBLIC_HAS_NO_SECRET, edit_app, owned_app_or_404, register_app
from .account import sudo_prompt
from .auth import render_form

CLIENT_TYPES = {"confidential": True, "public": False}


def _uri_lines(text: str) -> list[str]:
    """The textarea's redirect URIs: one a line, blank lines and the spaces
    around each dropped (a form cannot show them; the API takes URIs exactly)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _form_values(post) -> dict:
    return {name: post.get(name, "") for name in ("name", "homepage", "redirect_uris", "client_type")}


def _form_body(values: dict, *, with_type: bool) -> dict:
    """The form as the JSON body, so that it passes the same validation."""
    body = {"name": values["name"], "homepage": values["homepage"],
            "redirect_uris": _uri_lines(values["redirect_uris"])}
    if with_type:
        if values["client_type"] not in CLIENT_TYPES:
            raise Invalid({"client_type": "Choose confidential or public."})
        body["confidential"] = CLIENT_TYPES[values["client_type"]]
    return body


def _form_errors(fields: dict[str, str], uris: list[str]) -> dict[str, str]:
    """The body's errors (``redirect_uris.2``) under the form's names, each
    URI's error saying which URI it is about."""
    errors: dict[str, str] = {}
    for location, message in fields.items():
        name, _, index = location.partition(".")
        if name == "redirect_uris" and index.isdigit() and int(index) < len(uris):
            message = f"{uris[int(index)]}: {message}"
        elif location == "redirect_uris" and not uris:
            message = "Give at least one redirect URI."
        if name in errors:
            errors[name] += " " + message
        else:
            errors[name] = message
    return errors


def _shown(values: dict) -> dict:
    """Values to fill the form in again with, NUL characters made visible."""
    return {name: value.replace("\x00", "\ufffd") for name, value in values.items()}


def render_apps(request, status: int = 200, errors=None, values=None):
    apps, _total = list_apps(request.dbsession, request.identity.user_id)
    return render_form(request, "apps.jinja2", status, apps=apps, in_sudo=in_sudo(request.identity),
                       errors=errors or {}, values=values or {"client_type": "confidential"})


def render_app(request, app: OAuthApp, status: int = 200, errors=None, values=None):
    values = values or {"name": app.name, "homepage": app.homepage,
                        "redirect_uris": "\n".join(app.redirect_uri_list)}
    return render_form(request, "app.jinja2", status, app=app, in_sudo=in_sudo(request.identity),
                       errors=errors or {}, values=values)


def show_secret(request, app: OAuthApp, secret: str, heading: str, status: int):
    response = render_form(request, "app_secret.jinja2", status, app=app, secret=secret,
                           heading=heading)
    # The secret must not be kept by any cache, the browser's included.
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="apps", request_method="GET", permission=Permission.ACCOUNT)
def apps_page(request):
    return render_apps(request)


@view_config(route_name="apps", request_method="POST", permission=Permission.ACCOUNT)
def app_register_submit(request):
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("apps"), 403,
                           "Enter your password to register an app.")
    values = _form_values(request.POST)
    uris = _uri_lines(values["redirect_uris"])
    try:
        body = validate(AppCreate, _form_body(values, with_type=True))
        app, secret = register_app(request, body)
    except Invalid as exc:
        return render_apps(request, 400, errors=_form_errors(exc.fields, uris), values=_shown(values))
    except Conflict as exc:
        return render_apps(request, 409, errors={"name": exc.message}, values=_shown(values))
    if secret is None:
        request.session.flash(f"“{app.name}” is registered. A public app has no secret: it "
                              "proves itself with PKCE alone.")
        return HTTPSeeOther(location=request.route_path("app.page", id=app.id))
    return show_secret(request, app, secret, "Your new app", 201)


@view_config(route_name="app.page", request_method="GET", permission=Permission.ACCOUNT)
def app_page(request):
    return render_app(request, owned_app_or_404(request))


@view_config(route_name="app.page", request_method="POST", permission=Permission.ACCOUNT)
def app_edit_submit(request):
    app = owned_app_or_404(request)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("app.page", id=app.id), 403,
                           "Enter your password to change an app.")
    values = _form_values(request.POST)
    uris = _uri_lines(values["redirect_uris"])
    try:
        changed = edit_app(request, app, validate(AppEdit, _form_body(values, with_type=False)))
    except Invalid as exc:
        return render_app(request, app, 400, errors=_form_errors(exc.fields, uris),
                          values=_shown(values))
    request.session.flash("Saved." if changed else "Nothing changed.")
    return HTTPSeeOther(location=request.route_path("app.page", id=app.id))


@view_config(route_name="app.secret", request_method="POST", permission=Permission.ACCOUNT)
def app_secret_submit(request):
    app = owned_app_or_404(request)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("app.page", id=app.id), 403,
                           "Enter your password to rotate the app's secret.")
    if not app.confidential:
        request.session.flash(PUBLIC_HAS_NO_SECRET)
        return HTTPSeeOther(location=request.route_path("app.page", id=app.id))
    secret = rotate_secret(request.dbsession, request.bookkeeping, app)
    return show_secret(request, app, secret, "The app's new secret", 200)


@view_config(route_name="app.delete", request_method="GET", permission=Permission.ACCOUNT)
def app_delete_confirm(request):
    return render_form(request, "app_delete.jinja2", app=owned_app_or_404(request))


@view_config(route_name="app.delete", request_method="POST", permission=Permission.ACCOUNT)
def app_delete_submit(request):
    app = owned_app_or_404(request)
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("app.delete", id=app.id), 403,
                           "Enter your password to delete an app.")
    name = app.name
    delete_app(request.dbsession, request.bookkeeping, app)
    request.session.flash(f"“{name}” is deleted; its tokens no longer work.")
    return HTTPSeeOther(location=request.route_path("apps"))


@view_config(route_name="account.apps", request_method="GET", permission=Permission.ACCOUNT)
def authorized_apps_page(request):
    return render_form(request, "account_apps.jinja2", scopes=SCOPES,
                       items=authorized_apps(request.dbsession, request.identity.user_id),
                       in_sudo=in_sudo(request.identity))


@view_config(route_name="account.app.revoke", request_method="POST", permission=Permission.ACCOUNT)
def authorized_app_revoke(request):
    if not in_sudo(request.identity):
        return sudo_prompt(request, request.route_path("account.apps"), 403,
                           "Enter your password to revoke an app.")
    app = request.dbsession.get(OAuthApp, path_id(request))
    if app is None or not revoke_app_for(request.dbsession, request.bookkeeping,
                                         request.identity.user_id, app.id):
        raise NotFound()
    request.session.flash(f"“{app.name}” can no longer act for you: its tokens stopped working.")
    return HTTPSeeOther(location=request.route_path("account.apps"))
