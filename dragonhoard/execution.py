"""The execution policy: body size limit, then pyramid_retry, then a last resort.

pyramid_retry reads the whole body before anything else looks at it, so the
size limit is checked here, on the declared Content-Length, before it does
(waitress's ``max_request_body_size`` bounds chunked bodies). Errors raised
outside the exception-view tween (pyramid_tm's commit sits above it) are
rendered here too, so that no failure reaches waitress as a bare 500.
"""
from __future__ import annotations

import logging
from urllib.parse import unquote_to_bytes

from pyramid_retry import RetryableExecutionPolicy

from .request import SAFE_METHODS
from .responses import json_error

log = logging.getLogger(__name__)


def attempts_for(request) -> int | None:
    """Safe methods run without a transaction, so nothing of theirs can be
    retried: one attempt, and no copy of the body kept for another."""
    return 1 if request.method in SAFE_METHODS else None


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


def make_execution_policy(max_body_bytes: int, attempts: int = 3):
    retrying = RetryableExecutionPolicy(attempts=attempts, activate_hook=attempts_for)

    def execution_policy(environ, router):
        size = body_size(environ)
        problem = malformed(environ, size)
        if problem:
            return early_answer(environ, 400, "bad_request", problem)
        if size > max_body_bytes:
            return early_answer(environ, 413, "request_too_large",
                                f"The body is larger than {max_body_bytes} bytes.")
        try:
            return retrying(environ, router)
        except Exception:
            with router.request_context(environ) as request:
                return request.invoke_exception_view(reraise=True)

    return execution_policy
