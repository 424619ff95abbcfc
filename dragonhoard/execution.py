"""The execution policy: body size limit, then pyramid_retry, then a last resort.

pyramid_retry reads the whole body before anything else looks at it, so the
size limit is checked here, on the declared Content-Length, before it does
(waitress's ``max_request_body_size`` bounds chunked bodies). Errors raised
outside the exception-view tween (pyramid_tm's commit sits above it) are
rendered here too, so that no failure reaches waitress as a bare 500.
"""
from __future__ import annotations

import logging

from pyramid_retry import RetryableExecutionPolicy

from .request import SAFE_METHODS
from .responses import json_error

log = logging.getLogger(__name__)


def attempts_for(request) -> int | None:
    """Safe methods run without a transaction, so nothing of theirs can be
    retried: one attempt, and no copy of the body kept for another."""
    return 1 if request.method in SAFE_METHODS else None


def make_execution_policy(max_body_bytes: int, attempts: int = 3):
    retrying = RetryableExecutionPolicy(attempts=attempts, activate_hook=attempts_for)

    def execution_policy(environ, router):
        length = environ.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            return json_error(400, "bad_request", "The Content-Length header is not a number.")
        if size > max_body_bytes:
            return json_error(
                413, "request_too_large", f"The body is larger than {max_body_bytes} bytes."
            )
        try:
            return retrying(environ, router)
        except Exception:
            with router.request_context(environ) as request:
                return request.invoke_exception_view(reraise=True)

    return execution_policy
