"""Building the answers every layer shares: JSON bodies and JSON errors."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pyramid.response import Response

JSON_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    """JSON bytes; datetimes as ISO 8601 with ``Z``."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


def json_response(
    value: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(body=dumps(value), status=status, content_type=JSON_TYPE, charset=None)
    if headers:
        response.headers.update(headers)
    return response


def error_body(error: str, message: str, fields: Mapping[str, str] | None = None) -> dict:
    body: dict[str, Any] = {"error": error, "message": message}
    if fields:
        body["fields"] = dict(fields)
    return body


def json_error(
    status: int,
    error: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``{"error", "message"[, "fields"]}`` with ``status`` (DESIGN section 6)."""
    return json_response(error_body(error, message, fields), status=status, headers=headers)


class JSONRenderer:
    """``renderer="json"``: orjson, and ``application/json`` unless the view chose a type."""

    def __init__(self, info) -> None:
        pass

    def __call__(self, value: Any, system: dict) -> bytes:
        request = system.get("request")
        if request is not None:
            response = request.response
            if response.content_type == response.default_content_type:
                response.content_type = JSON_TYPE
                response.charset = None
        return dumps(value)
