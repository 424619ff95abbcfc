"""dragonhoard: dragons keep treasures; one security policy for every caller."""
from __future__ import annotations

from pyramid.config import Configurator
from pyramid.tweens import EXCVIEW

from . import application
from .execution import make_execution_policy
from .request import Request
from .routes import scan_views
from .settings import ConfigError, apply_environment, load_settings


def main(global_config, **settings):
    """Build the WSGI application from the ini file's ``[app:main]`` settings."""
    settings = apply_environment(settings)
    try:
        dh_settings = load_settings(settings)
    except ConfigError as exc:
        # One line for the operator, no traceback: pserve exits with status 1.
        raise SystemExit(f"dragonhoard: {exc}") from None
    # pyramid_tm would call the security policy from its tween, outside the
    # exception views (DESIGN section 13).
    settings["tm.annotate_user"] = False
    # Safe methods run without a transaction (request.py).
    settings["tm.activate_hook"] = "dragonhoard.request.needs_transaction"

    with Configurator(settings=settings, request_factory=Request) as config:
        application.install(config.registry, application.build(dh_settings, settings))
        # pyramid_tm's tween, without its ``includeme``: that would add
        # ``request.tm`` through add_request_method (see request.py).
        config.add_tween("pyramid_tm.tm_tween_factory", over=EXCVIEW)
        config.add_tween("dragonhoard.tweens.bookkeeping_tween_factory", over="pyramid_tm.tm_tween_factory")
        config.add_tween("dragonhoard.tweens.security_headers_tween_factory", over="dragonhoard.tweens.bookkeeping_tween_factory")
        config.include("pyramid_jinja2")
        config.add_jinja2_renderer(".jinja2")
        config.add_jinja2_search_path("dragonhoard:templates", name=".jinja2")
        config.add_renderer("json", "dragonhoard.responses.JSONRenderer")
        config.include(".security")
        config.include(".routes")
        scan_views(config)
        config.set_execution_policy(
            make_execution_policy(dh_settings.max_body_bytes,
                                  attempts=int(settings.get("retry.attempts", 3)),
                                  hsts=dh_settings.cookie_secure)
        )
    return config.make_wsgi_app()
