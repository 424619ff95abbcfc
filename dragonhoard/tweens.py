"""Two tweens: security headers on every answer, and the bookkeeping flush.

Both sit above pyramid_tm: the bookkeeping writes go out once the request's
own transaction has ended (committed or rolled back), so they never wait on
its locks, and are dropped when pyramid_retry is about to replay the request
(the replay queues them again): written once per request.
"""
from __future__ import annotations

from pyramid_retry import is_error_retryable

from . import application, clock
from .security.identity import Identity
from .security.oauth.csp import ENVIRON_KEY as FORM_ACTION_KEY
from .security.tokens import EXPIRY_NOTICE

# No inline script or style anywhere: every page's JavaScript is a file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def security_headers_tween_factory(handler, registry):
    app = application.of(registry)
    session_cookie = app.settings.session_cookie_name
    policy = app.policy

    def security_headers_tween(request):
        response = handler(request)
        headers = response.headers
        # Appended rather than set: nothing upstream sets these, and setting
        # a header rescans the whole list each time.
        added = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
        if request.is_api:
            # Answers differ by credential: shared caches must keep them apart,
            # and must not keep any answer given to a credential at all.
            added.append(("Vary", "Authorization, Cookie"))
            environ = request.environ
            if "HTTP_AUTHORIZATION" in environ or session_cookie in environ.get("HTTP_COOKIE", ""):
                headers["Cache-Control"] = "no-store"
        if (response.content_type or "").startswith("text/html"):
            # Pages, and the API's one page (/api/docs), alike.
            # Every page is for one visitor (a CSRF token at least): not for caches.
            csp = CONTENT_SECURITY_POLICY
            form_targets = request.environ.get(FORM_ACTION_KEY)
            if form_targets:
                csp = csp.replace("form-action 'self'",
                                  "form-action 'self' " + " ".join(dict.fromkeys(form_targets)))
            added.append(("Content-Security-Policy", csp))
            added.append(("X-Frame-Options", "DENY"))
            headers["Cache-Control"] = "no-store"
        response.headerlist.extend(added)
        if "Set-Cookie" in headers:
            headers["Cache-Control"] = "no-store"
        elif "session" in request.__dict__:
            # The signed session (used by this request) sets its cookie in a
            # response callback, after the tweens: one added now runs after it.
            request.add_response_callback(no_store_when_setting_cookies)
        # Only an identity already computed counts: a refused token's 401 has none.
        identity = policy.cached_outcome(request)
        if isinstance(identity, Identity) and identity.token is not None:
            expires_at = identity.token.expires_at
            if expires_at is not None and expires_at - clock.now() <= EXPIRY_NOTICE:
                headers["Dragonhoard-Token-Expires"] = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return response

    return security_headers_tween


def no_store_when_setting_cookies(request, response) -> None:
    if "Set-Cookie" in response.headers:
        response.headers["Cache-Control"] = "no-store"


def bookkeeping_tween_factory(handler, registry):
    def bookkeeping_tween(request):
        try:
            response = handler(request)
        except Exception as exc:
            if not is_error_retryable(request, exc):
                _flush(request)
            raise
        exc = getattr(request, "exception", None)
        if exc is None or not is_error_retryable(request, exc):
            _flush(request)
        _database_answered(request, response)
        return response

    return bookkeeping_tween


def _database_answered(request, response) -> None:
    """A request that used the database and did not fail ends an outage."""
    used = request.__dict__
    if response.status_code < 500 and ("read_connection" in used or "dbsession" in used):
        request.app.outage.answered()


def _flush(request) -> None:
    # Only requests that queued something have a ``bookkeeping`` attribute.
    bookkeeping = request.__dict__.get("bookkeeping")
    if bookkeeping is not None:
        bookkeeping.flush()
