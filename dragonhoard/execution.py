"""The execution policy: body size limit, then pyramid_retry, then a last resort.

pyramid_retry reads the whole body before anything else looks at it, so the
size limit is checked here, on the Content-Length, before it does (waitress
buffers a chunked body and declares its length; its own
``max_request_body_size``, set higher, bounds what it buffers). Errors raised
outside the exception-view tween (pyramid_tm's commit sits above it) are
rendered here too, so that no failure reaches waitress as a bare 500. Every
answer leaves through here: HSTS is added here, and redirects keep their
paths (:func:`as_sent`).
"""
from __future__ import annotations

import logging
from urllib.parse import unquote_to_bytes

from pyramid_retry import RetryableExecutionPolicy

from .request import needs_transaction
from .responses import json_error

log = logging.getLogger(__name__)


def attempts_for(request) -> int | None:
    """Safe methods run without a transaction, so nothing of theirs can be
    retried: one attempt, and no copy of the body kept for another."""
    return None if needs_transaction(request) else 1


def body_size(environ) -> int:
    """The declared body size; -1 when the header is not a number."""
    try:
        return int(environ.get("CONTENT_LENGTH") or "0")
    except ValueError:
        return -1


def malformed(environ, size: int) -> str | None:
    """What makes the request unreadable before any view could look at it."""
    if size < 0:
        return "The Content-Length header is not a number."
    try:
        # WSGI hands over the path as latin-1; Pyramid decodes it as UTF-8.
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        query = environ.get("QUERY_STRING", "")
        if "%" in query or not query.isascii():
            unquote_to_bytes(query.replace("+", " ")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return "The URL is not valid UTF-8."
    return None


def early_answer(environ, status: int, error: str, message: str):
    """An answer given before the tweens, with the headers they would add."""
    response = json_error(status, error, message)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if environ.get("PATH_INFO", "").startswith("/api/"):
        response.headers["Vary"] = "Authorization, Cookie"
    return response


#: Sent on every answer when cookies are secure (HTTPS only): a year, subdomains too.
HSTS = "max-age=31536000; includeSubDomains"


def make_execution_policy(max_body_bytes: int, attempts: int = 3, *, hsts: bool = False):
    retrying = RetryableExecutionPolicy(attempts=attempts, activate_hook=attempts_for)

    def execution_policy(environ, router):
        size = body_size(environ)
        problem = malformed(environ, size)
        if problem:
            response = early_answer(environ, 400, "bad_request", problem)
        elif size > max_body_bytes:
            response = early_answer(environ, 413, "request_too_large",
                                    f"The body is larger than {max_body_bytes} bytes.")
        else:
            try:
                response = retrying(environ, router)
            except Exception:
                with router.request_context(environ) as request:
                    response = request.invoke_exception_view(reraise=True)
        if hsts:
            # Here rather than in a tween: every answer passes this way.
            response.headerlist.append(("Strict-Transport-Security", HSTS))
        return as_sent(response)

    return execution_policy


def as_sent(response):
    """The response as a WSGI application that sends its headers as they are.

    WebOb makes a relative ``Location`` absolute with the request's ``Host``
    header, which a client chooses; redirects carry a path instead
    (DESIGN section 8; a relative reference is valid in HTTP/1.1).
    """
    if "Location" not in response.headers:
        return response

    def send(environ, start_response):
        start_response(response.status, response.headerlist)
        if environ["REQUEST_METHOD"] == "HEAD":
            return []
        return response.app_iter

    return send
