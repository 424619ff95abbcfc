"""Every route in one place, with the resource factory that loads its context."""
from __future__ import annotations

from .security.permissions import Permission


def includeme(config) -> None:
    """Every route; those of login sessions only when the session source is on."""
    resources = "dragonhoard.resources."
    config.set_root_factory(resources + "root_factory")
    config.add_static_view(
        "static", "dragonhoard:static", cache_max_age=3600, permission=Permission.PUBLIC
    )
    config.add_route("healthz", "/healthz")

    # JSON API: ids in paths are whole numbers; any other form is an unknown path.
    config.add_route("api.me", "/api/me")
    config.add_route("api.users", "/api/users")
    config.add_route("api.user", r"/api/users/{id:\d+}", factory=resources + "users.user_factory")
    config.add_route("api.treasures", "/api/treasures")
    config.add_route("api.treasure", r"/api/treasures/{id:\d+}",
                     factory=resources + "treasures.treasure_factory")
    config.add_route("api.projects", "/api/projects")
    project = resources + "projects.project_factory"
    config.add_route("api.project", "/api/projects/{slug}", factory=project)
    config.add_route("api.project.members", "/api/projects/{slug}/members", factory=project)
    config.add_route("api.project.member", r"/api/projects/{slug}/members/{user_id:\d+}",
                     factory=project)
    config.add_route("api.project.treasures", "/api/projects/{slug}/treasures", factory=project)
    config.add_route("api.token.self", "/api/tokens/self")
    config.add_route("api.credentials.revoke", "/api/credentials/revoke")

    if "session" not in config.registry.dh_settings.auth_sources:
        return  # An API-only deployment: no login, no pages, tokens from the command line.

    # Account security, for login sessions only.
    config.add_route("api.login", "/api/login")
    config.add_route("api.logout", "/api/logout")
    config.add_route("api.sudo", "/api/sudo")
    config.add_route("api.account.password", "/api/account/password")
    config.add_route("api.sessions", "/api/sessions")
    config.add_route("api.session", r"/api/sessions/{id:\d+}")
    config.add_route("api.events", "/api/events")
    config.add_route("api.tokens", "/api/tokens")
    config.add_route("api.token", r"/api/tokens/{id:\d+}")
    config.add_route("api.token.rotate", r"/api/tokens/{id:\d+}/rotate")

    # Pages
    config.add_route("dashboard", "/")
    config.add_route("dashboard.project", "/current-project")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("register", "/register")
    config.add_route("account.sudo", "/account/sudo")
    config.add_route("account.sessions", "/account/sessions")
    config.add_route("account.sessions.revoke_others", "/account/sessions/revoke-others")
    config.add_route("account.session.revoke", r"/account/sessions/{id:\d+}/revoke")
    config.add_route("account.password", "/account/password")
    config.add_route("account.security", "/account/security")
    config.add_route("tokens", "/tokens")
    config.add_route("tokens.revoke", r"/tokens/{id:\d+}/revoke")
    config.add_route("tokens.rotate", r"/tokens/{id:\d+}/rotate")


#: The view modules of login sessions, scanned only when sessions are on.
SESSION_VIEWS = (
    ".views.api.auth",
    ".views.api.account",
    ".views.api.sessions",
    ".views.api.events",
    ".views.api.tokens",
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
)


def scan_views(config) -> None:
    for module in ALWAYS_VIEWS:
        config.scan(module)
    if "session" in config.registry.dh_settings.auth_sources:
        for module in SESSION_VIEWS:
            config.scan(module)


def allowed_methods(registry, route_name: str) -> list[str]:
    """The methods some view of ``route_name`` answers (for 405's ``Allow``)."""
    table = getattr(registry, "dh_allowed_methods", None)
    if table is None:
        table = {}
        for item in registry.introspector.get_category("views"):
            intr = item["introspectable"]
            name = intr["route_name"]
            methods = intr["request_methods"]
            if name is None or intr["context"] is not None and intr["exception_only"]:
                continue
            if isinstance(methods, str):
                methods = (methods,)
            found = table.setdefault(name, set())
            if methods:
                found.update(methods)
                if "GET" in methods:
                    found.add("HEAD")
        registry.dh_allowed_methods = table
    return sorted(table.get(route_name, ()))
