"""Who is calling and what they may do: ``config.include("dragonhoard.security")``."""
from __future__ import annotations

from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from .csrf import LoginBoundCSRFStoragePolicy, csrf_required
from .permissions import Permission


def includeme(config) -> None:
    from ..application import of

    app = of(config.registry)
    settings = app.settings
    config.set_security_policy(app.policy)
    # Nothing is public by accident: a view without a permission needs a caller.
    config.set_default_permission(Permission.AUTHENTICATED)

    # The signed cookie holds the CSRF token, flash messages and the current
    # project: nothing that grants access (the login lives in login_sessions).
    # It lives as long as a login may: unused that long, it is forgotten.
    lifetime = settings.session_max_seconds
    config.set_session_factory(
        SignedCookieSessionFactory(
            settings.secret,
            salt="dragonhoard.state.",
            cookie_name=settings.state_cookie_name,
            secure=settings.cookie_secure,
            httponly=True,
            samesite="Lax",
            path="/",
            max_age=lifetime,
            timeout=lifetime,
            reissue_time=lifetime // 10,
            serializer=JSONSerializer(),
        )
    )
    config.set_csrf_storage_policy(LoginBoundCSRFStoragePolicy())
    config.set_default_csrf_options(
        require_csrf=True, check_origin=False, callback=csrf_required
    )

