"""Every route in one place, with the resource factory that loads its context."""
from __future__ import annotations

from .security.permissions import Permission


def includeme(config) -> None:
    config.set_root_factory("dragonhoard.resources.root_factory")
    config.add_static_view(
        "static", "dragonhoard:static", cache_max_age=3600, permission=Permission.PUBLIC
    )
    config.add_route("healthz", "/healthz")


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
