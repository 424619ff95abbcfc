"""Exception views: every refusal and failure gets its answer here.

JSON under ``/api/`` (``{"error", "message"[, "fields"]}``, DESIGN section 6),
a page elsewhere. The forbidden view applies DESIGN section 5's refusal
order to what ``SecurityPolicy.permits`` said.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import psycopg
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import (
    HTTPException,
    HTTPForbidden,
    HTTPMethodNotAllowed,
    HTTPNotFound,
    HTTPSeeOther,
)
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..errors import (
    BadCredentials,
    Conflict,
    DomainError,
    Invalid,
    Malformed,
    MfaRequired,
    NeedsSession,
    ReauthRequired,
    Throttled,
    WrongCode,
    WrongMediaType,
    WrongPassword,
)
from ..responses import json_error
from ..security.identity import Refusal
from ..security.policy import CredentialRefused, MfaDenied, ScopeDenied, SessionRequired
from .pages import page_values

log = logging.getLogger(__name__)

CHALLENGE = 'Bearer realm="dragonhoard"'
RETRY_AFTER_SECONDS = "5"

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

MESSAGES = {
    400: "The request is malformed.",
    401: "Authentication is required.",
    403: "You may not do this.",
    404: "There is nothing here.",
    405: "This method is not allowed here.",
    409: "This conflicts with what exists.",
    413: "The body is too large.",
    415: "Send the body as application/json.",
    422: "The body is not valid.",
    429: "Too many attempts; try again later.",
    500: "Something went wrong on our side.",
    503: "The service is unavailable; try again shortly.",
}


def error_answer(request, status: int, message: str | None = None, *, error: str | None = None,
                 fields=None, headers=None):
    """JSON for the API, the error page elsewhere."""
    message = message or MESSAGES.get(status, "Error.")
    if request.is_api:
        return json_error(status, error or ERROR_CODES.get(status, "error"), message, fields, headers)
    response = render_to_response(
        "error.jinja2", {"status": status, "message": message}, request=request
    )
    response.status = status
    if headers:
        response.headers.update(headers)
    return response


def refusal_answer(request, refusal: Refusal):
    """400/401 for a refused credential, with RFC 6750's challenge."""
    return error_answer(
        request,
        refusal.status,
        refusal.description,
        error=refusal.error or ERROR_CODES[refusal.status],
        headers={"WWW-Authenticate": refusal.challenge},
    )


def login_redirect(request):
    return HTTPSeeOther(location=request.route_path("login", _query={"next": request.path_qs}))


def unauthenticated_answer(request):
    # An API-only deployment has no login page to send anyone to.
    if not request.is_api and "session" in request.settings.auth_sources:
        return login_redirect(request)
    return error_answer(request, 401, headers={"WWW-Authenticate": CHALLENGE})


def answered_first(factory: Callable, *, credentials: bool = True) -> Callable:
    """A route's resource factory, behind the answers that come before any row
    is loaded: a refused credential (400/401, needs no database) and a method
    the route does not answer (405, whether or not the row exists).

    ``credentials=False``: the route's ``Authorization`` header is no user's
    credential (an OAuth app's, RFC 6749 section 2.3.1), and is not read.
    """

    def load_context(request):
        route = request.matched_route
        if route is not None:
            outcome = request.policy.authenticate(request) if credentials else None
            if isinstance(outcome, Refusal):
                raise HTTPForbidden(result=CredentialRefused(outcome))
            methods = allowed_methods(request, route.name)
            if methods and request.method not in methods:
                raise HTTPMethodNotAllowed(headers={"Allow": ", ".join(methods)})
        return factory(request)

    return load_context


def allowed_methods(request, route_name: str) -> list[str]:
    """The methods some view of ``route_name``'s path answers (405's ``Allow``),
    counting every route that shares the path (see ``routes.add_read_routes``),
    worked out from the views' registrations on first use."""
    app = request.app
    table = app.allowed_methods
    if table is None:
        registry = request.registry
        by_route: dict[str, set[str]] = {}
        for item in registry.introspector.get_category("views"):
            intr = item["introspectable"]
            if intr["route_name"] is None or intr["exception_only"]:
                continue
            methods = intr["request_methods"]
            if isinstance(methods, str):
                methods = (methods,)
            found = by_route.setdefault(intr["route_name"], set())
            if methods:
                found.update(methods)
                if "GET" in methods:
                    found.add("HEAD")
        by_pattern: dict[str, set[str]] = {}
        patterns = {}
        for item in registry.introspector.get_category("routes"):
            route = item["introspectable"]
            patterns[route["name"]] = route["pattern"]
            by_pattern.setdefault(route["pattern"], set()).update(by_route.get(route["name"], ()))
        table = {name: sorted(by_pattern[pattern]) for name, pattern in patterns.items()}
        app.allowed_methods = table
    return table.get(route_name, [])


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request):
    result = exc.result
    policy = request.policy
    if isinstance(result, CredentialRefused):
        return refusal_answer(request, result.refusal)
    if isinstance(result, SessionRequired):
        return error_answer(
            request, 403, "Account security needs a login session; tokens cannot do this.",
            error="session_required",
        )
    context = request.context
    if not policy.may_view(request, context):
        return not_found(HTTPNotFound(), request)
    if isinstance(result, MfaDenied):
        return mfa_required_answer(request, result.where)
    if request.identity is None:
        return unauthenticated_answer(request)
    if isinstance(result, ScopeDenied):
        return error_answer(
            request, 403, f"The token lacks the {result.scope} scope.",
            error="insufficient_scope",
            headers={
                "WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope", scope="{result.scope}"'
            },
        )
    return error_answer(request, 403)


MFA_MESSAGES = {
    "account": "This account needs a second factor: set one up at /account/two-factor.",
    "project": "This project requires a second factor: set one up at /account/two-factor.",
}


def mfa_required_answer(request, where: str):
    """403 ``mfa_required``; a page says so and links to where to set one up."""
    message = MFA_MESSAGES[where]
    if request.is_api:
        return json_error(403, "mfa_required", message)
    response = render_to_response("mfa_required.jinja2", page_values(request, where=where,
                                                                     message=message),
                                  request=request)
    response.status = 403
    return response


@notfound_view_config()
def not_found(exc, request):
    # One message for every 404: a hidden row and a missing one answer alike.
    return error_answer(request, 404)


@exception_view_config(BadCSRFOrigin)
@exception_view_config(BadCSRFToken)
def csrf_failed(exc, request):
    if isinstance(exc, BadCSRFOrigin):
        message = "The request comes from another site."
    else:
        message = "The form has expired or did not come from this site; reload the page and try again."
    return error_answer(request, 403, message, error="csrf_failed")


#: Each domain error's status and error code (DESIGN section 6).
DOMAIN_ANSWERS: dict[type[DomainError], tuple[int, str]] = {
    Malformed: (400, "bad_request"),
    WrongMediaType: (415, "unsupported_media_type"),
    Invalid: (422, "validation_failed"),
    Conflict: (409, "conflict"),
    ReauthRequired: (403, "reauth_required"),
    NeedsSession: (403, "session_required"),
    WrongPassword: (403, "invalid_password"),
    WrongCode: (403, "invalid_code"),
    MfaRequired: (403, "mfa_required"),
    BadCredentials: (401, "invalid_credentials"),
    Throttled: (429, "too_many_requests"),
}


def status_of(exc: DomainError) -> int:
    """The status a domain error answers with (the pages use it too)."""
    return DOMAIN_ANSWERS[type(exc)][0]


def headers_of(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, Throttled):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, BadCredentials):
        return {"WWW-Authenticate": CHALLENGE}
    return {}


@exception_view_config(DomainError)
def domain_error(exc: DomainError, request):
    status, error = DOMAIN_ANSWERS[type(exc)]
    fields = None
    if isinstance(exc, Invalid):
        fields = exc.fields
    elif isinstance(exc, Conflict) and exc.field:
        fields = {exc.field: exc.message}
    return error_answer(request, status, exc.message, error=error, fields=fields,
                        headers=headers_of(exc))


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request):
    if exc.code < 400:
        return exc
    headers = {
        name: value
        for name, value in exc.headers.items()
        if name in ("Allow", "Retry-After", "WWW-Authenticate")
    }
    # Our own message for the status, never the exception's detail: it may
    # quote the request (a header holding a token, say).
    return error_answer(request, exc.code, headers=headers)


def is_check_violation(exc: IntegrityError) -> bool:
    original = exc.orig
    if isinstance(original, psycopg.errors.CheckViolation):
        return True
    return isinstance(original, sqlite3.IntegrityError) and "CHECK constraint" in str(original)


@exception_view_config(IntegrityError)
def integrity_error(exc, request):
    """The database refused a write the views' checks let through: a value its
    CHECK constraints forbid (422), or the duplicate of a race lost (409)."""
    log.info("integrity error: %s", exc.orig.__class__.__name__)
    if is_check_violation(exc):
        return error_answer(request, 422, "A value is out of its allowed range.")
    return error_answer(request, 409, "This conflicts with what exists; reload and try again.")


@exception_view_config(OperationalError)
@exception_view_config(PoolTimeoutError)
@exception_view_config(psycopg.OperationalError)
@exception_view_config(psycopg.InternalError)
@exception_view_config(sqlite3.OperationalError)
def database_unavailable(exc, request):
    request.app.outage.failed(exc.__class__.__name__)
    drop_request_connection(request)
    return error_answer(request, 503, headers={"Retry-After": RETRY_AFTER_SECONDS})


def drop_request_connection(request) -> None:
    """The database went away, maybe under another of the request's
    connections: its own is not to be trusted either. Invalidated, it is not
    rolled back when pyramid_tm aborts the transaction after this view (a
    rollback on a dead connection fails, with a traceback in the log)."""
    read = request.__dict__.get("read_connection")
    if read is not None:
        read.invalidate()
    session = request.__dict__.get("dbsession")
    if session is None or not session.in_transaction():
        return
    try:
        session.connection().invalidate()
    except SQLAlchemyError:
        pass


@exception_view_config(DBAPIError)
def database_error(exc, request):
    # psycopg's InternalError: the connection's protocol went astray (a
    # server shutting down mid-statement), not a refusal of the request.
    if exc.connection_invalidated or isinstance(exc.orig, psycopg.InternalError):
        return database_unavailable(exc, request)
    return server_error(exc, request)


@exception_view_config(Exception)
def server_error(exc, request):
    log.error("unhandled %s on %s %s", exc.__class__.__name__, request.method, request.path,
              exc_info=exc)
    return error_answer(request, 500)

