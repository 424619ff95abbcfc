"""Every route in one place, with the resource factory that loads its context."""
from __future__ import annotations

from .security.permissions import Permission


def includeme(config) -> None:
    config.set_root_factory("dragonhoard.resources.root_factory")
    config.add_static_view(
        "static", "dragonhoard:static", cache_max_age=3600, permission=Permission.PUBLIC
    )
    config.add_route("healthz", "/healthz")

    # Pages
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

    # JSON API: ids in paths are whole numbers; any other form is an unknown path.
    config.add_route("api.login", "/api/login")
    config.add_route("api.logout", "/api/logout")
    config.add_route("api.me", "/api/me")
    config.add_route("api.sudo", "/api/sudo")
    config.add_route("api.account.password", "/api/account/password")
    config.add_route("api.sessions", "/api/sessions")
    config.add_route("api.session", r"/api/sessions/{id:\d+}")
    config.add_route("api.events", "/api/events")
    config.add_route("api.users", "/api/users")
    config.add_route("api.tokens", "/api/tokens")
    config.add_route("api.token.self", "/api/tokens/self")
    config.add_route("api.token", r"/api/tokens/{id:\d+}")
    config.add_route("api.token.rotate", r"/api/tokens/{id:\d+}/rotate")
    config.add_route("api.credentials.revoke", "/api/credentials/revoke")


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
