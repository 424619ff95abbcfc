"""Every route in one place, with the resource factory that loads its context.

Each factory runs behind :func:`views.errors.answered_first`: a refused
credential and a method the route does not answer are answered before any
row is loaded.
"""
from __future__ import annotations

from .application import of as app_of
from .resources import projects, root_factory, treasures, users
from .security.permissions import Permission
from .views.api.docs import SWAGGER_UI
from .views.errors import answered_first


def includeme(config) -> None:
    """Every route; those of login sessions only when the session source is on."""
    config.set_root_factory(answered_first(root_factory))
    config.add_static_view(
        "static", "dragonhoard:static", cache_max_age=3600, permission=Permission.PUBLIC
    )
    config.add_route("healthz", "/healthz")

    # JSON API: ids in paths are whole numbers; any other form is an unknown path.
    config.add_route("api.me", "/api/me")
    config.add_route("api.users", "/api/users")
    config.add_route("api.user", r"/api/users/{id:[0-9]+}", factory=answered_first(users.user_factory))
    treasure = answered_first(treasures.treasure_factory)
    project = answered_first(projects.project_factory)
    add_read_routes(config, "api.treasures", "/api/treasures", None, "create")
    add_read_routes(config, "api.treasure", r"/api/treasures/{id:[0-9]+}", treasure, "change")
    config.add_route("api.projects", "/api/projects")
    add_read_routes(config, "api.project", "/api/projects/{slug}", project, "change")
    config.add_route("api.project.members", "/api/projects/{slug}/members", factory=project)
    config.add_route("api.project.member", r"/api/projects/{slug}/members/{user_id:[0-9]+}",
                     factory=project)
    add_read_routes(config, "api.project.treasures", "/api/projects/{slug}/treasures", project,
                    "create")
    config.add_route("api.token.self", "/api/tokens/self")
    config.add_route("api.credentials.revoke", "/api/credentials/revoke")
    # The API describes itself; the document is built here, at start-up.
    config.add_route("api.openapi", "/api/openapi.json")
    config.add_route("api.docs", "/api/docs")
    config.add_static_view("swagger-ui", SWAGGER_UI, cache_max_age=3600, permission=Permission.PUBLIC)
    config.include(".views.api.docs")

    if "session" not in app_of(config.registry).settings.auth_sources:
        return  # An API-only deployment: no login, no pages, tokens from the command line.

    # Account security, for login sessions only.
    config.add_route("api.login", "/api/login")
    config.add_route("api.logout", "/api/logout")
    config.add_route("api.sudo", "/api/sudo")
    # Second factors (DESIGN section 14).
    config.add_route("api.login.totp", "/api/login/totp")
    config.add_route("api.login.recovery", "/api/login/recovery")
    config.add_route("api.login.webauthn.options", "/api/login/webauthn/options")
    config.add_route("api.login.webauthn", "/api/login/webauthn")
    config.add_route("api.sudo.webauthn.options", "/api/sudo/webauthn/options")
    config.add_route("api.account.mfa", "/api/account/mfa")
    config.add_route("api.account.totp", "/api/account/totp")
    config.add_route("api.account.totp.confirm", "/api/account/totp/confirm")
    config.add_route("api.account.webauthn.options", "/api/account/webauthn/options")
    config.add_route("api.account.webauthn", "/api/account/webauthn")
    config.add_route("api.account.webauthn.item", r"/api/account/webauthn/{id:[0-9]+}")
    config.add_route("api.account.recovery_codes", "/api/account/recovery-codes")
    config.add_route("api.account.password", "/api/account/password")
    config.add_route("api.sessions", "/api/sessions")
    config.add_route("api.session", r"/api/sessions/{id:[0-9]+}")
    config.add_route("api.events", "/api/events")
    config.add_route("api.tokens", "/api/tokens")
    config.add_route("api.token", r"/api/tokens/{id:[0-9]+}")
    config.add_route("api.token.rotate", r"/api/tokens/{id:[0-9]+}/rotate")

    # Pages
    config.add_route("dashboard", "/")
    config.add_route("dashboard.project", "/current-project")
    config.add_route("login", "/login")
    config.add_route("login.two_factor", "/login/two-factor")
    config.add_route("logout", "/logout")
    config.add_route("register", "/register")
    config.add_route("account.sudo", "/account/sudo")
    config.add_route("account.sessions", "/account/sessions")
    config.add_route("account.sessions.revoke_others", "/account/sessions/revoke-others")
    config.add_route("account.session.revoke", r"/account/sessions/{id:[0-9]+}/revoke")
    config.add_route("account.password", "/account/password")
    config.add_route("account.security", "/account/security")
    config.add_route("account.two_factor", "/account/two-factor")
    config.add_route("account.two_factor.totp", "/account/two-factor/totp")
    config.add_route("account.two_factor.totp.confirm", "/account/two-factor/totp/confirm")
    config.add_route("account.two_factor.totp.remove", "/account/two-factor/totp/remove")
    config.add_route("account.two_factor.webauthn", "/account/two-factor/webauthn")
    config.add_route("account.two_factor.webauthn.remove",
                     r"/account/two-factor/webauthn/{id:[0-9]+}/remove")
    config.add_route("account.two_factor.recovery", "/account/two-factor/recovery-codes")
    config.add_route("tokens", "/tokens")
    config.add_route("tokens.revoke", r"/tokens/{id:[0-9]+}/revoke")
    config.add_route("tokens.rotate", r"/tokens/{id:[0-9]+}/rotate")
    config.add_route("project.page", "/projects/{slug}")
    config.add_route("account.profile", "/account/profile")
    config.add_route("admin.users", "/admin/users")
    config.add_route("admin.user.active", r"/admin/users/{id:[0-9]+}/active")
    config.add_route("admin.user.admin", r"/admin/users/{id:[0-9]+}/admin")
    config.add_route("admin.user.mfa", r"/admin/users/{id:[0-9]+}/mfa")

    # OAuth apps (DESIGN section 15). The endpoints apps call carry the app's
    # own credentials, which the security policy must not read as a user's.
    app_calls = answered_first(root_factory, credentials=False)
    config.add_route("oauth.token", "/oauth/token", factory=app_calls)
    config.add_route("oauth.revoke", "/oauth/revoke", factory=app_calls)
    config.add_route("oauth.introspect", "/oauth/introspect", factory=app_calls)
    config.add_route("oauth.device_authorization", "/oauth/device_authorization", factory=app_calls)
    config.add_route("oauth.metadata", "/.well-known/oauth-authorization-server")
    config.add_route("oauth.authorize", "/oauth/authorize")
    config.add_route("device", "/device")
    config.add_route("device.done", "/device/done")
    # The apps a user registered, and those they authorized.
    config.add_route("api.apps", "/api/apps")
    config.add_route("api.app", r"/api/apps/{id:[0-9]+}")
    config.add_route("api.app.secret", r"/api/apps/{id:[0-9]+}/secret")
    config.add_route("api.account.apps", "/api/account/apps")
    config.add_route("api.account.app", r"/api/account/apps/{id:[0-9]+}")
    config.add_route("apps", "/apps")
    config.add_route("app.page", r"/apps/{id:[0-9]+}")
    config.add_route("app.secret", r"/apps/{id:[0-9]+}/secret")
    config.add_route("app.delete", r"/apps/{id:[0-9]+}/delete")
    config.add_route("account.apps", "/account/apps")
    config.add_route("account.app.revoke", r"/account/apps/{id:[0-9]+}/revoke")


def add_read_routes(config, name: str, pattern: str, factory: str | None, writes: str) -> None:
    """``name`` for GET and HEAD, ``name.<writes>`` for the other methods.

    The busiest reads get a route of their own: Pyramid tries a route's views
    in turn and builds an exception (a whole Response) for each whose
    ``request_method`` does not match, while a route predicate that does not
    match costs nothing.
    """
    config.add_route(name, pattern, factory=factory, request_method=("GET", "HEAD"))
    config.add_route(f"{name}.{writes}", pattern, factory=factory)


#: The view modules of login sessions, scanned only when sessions are on.
SESSION_VIEWS = (
    ".views.api.auth",
    ".views.api.two_factor",
    ".views.api.mfa",
    ".views.api.account",
    ".views.api.sessions",
    ".views.api.events",
    ".views.api.tokens",
    ".views.api.apps",
    ".views.oauth",
    ".views.pages",
)
ALWAYS_VIEWS = (
    ".views.errors",
    ".views.health",
    ".views.api.me",
    ".views.api.users",
    ".views.api.treasures",
    ".views.api.projects",
    ".views.api.credentials",
    ".views.api.docs",
)


def scan_views(config) -> None:
    for module in ALWAYS_VIEWS:
        config.scan(module)
    if "session" in app_of(config.registry).settings.auth_sources:
        for module in SESSION_VIEWS:
            config.scan(module)
