"""Request bodies: parsing, validation and the errors they answer with.

Bodies are validated by pydantic models in strict mode (no silent
conversions: ``"5"`` is not a number) that forbid unknown fields, so a
read-only or misspelled field is a 422 rather than silently ignored.
"""
from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

Model = TypeVar("Model", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"


def refuse_nul(value: str) -> str:
    """PostgreSQL's text cannot hold NUL, and nobody means one."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


class Body(BaseModel):
    """The base of every request body."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str):
            refuse_nul(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    refuse_nul(item)
        return value


class ApiError(Exception):
    """Answered as ``{"error", "message"[, "fields"]}`` with ``status``."""

    def __init__(self, status: int, error: str, message: str,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


class ValidationFailed(ApiError):
    """A 422 with field errors (or, with ``status``, another refusal of the body)."""

    def __init__(self, fields: dict[str, str] | None = None, message: str = "The body is not valid.",
                 *, status: int = 422, error: str = "validation_failed") -> None:
        super().__init__(status, error, message, fields)


def reauth_required() -> ApiError:
    return ApiError(403, "reauth_required", "Enter your password again (POST /api/sudo) and retry.")


def bad_request(message: str) -> ValidationFailed:
    return ValidationFailed(None, message, status=400, error="bad_request")


def field_errors(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "extra_forbidden":
            message = "Unknown or read-only field."
        else:
            message = error["msg"].removeprefix("Value error, ")
        fields.setdefault(location, message)
    return fields


def read_json_object(request) -> dict:
    """The request's body as a JSON object, unvalidated: 415 or 400 when it is not."""
    if request.content_type != JSON_MEDIA_TYPE:
        raise ValidationFailed(
            None, "Send the body as application/json.", status=415, error="unsupported_media_type"
        )
    try:
        data = orjson.loads(request.body or b"")
    except orjson.JSONDecodeError:
        raise bad_request("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object.")
    return data


def validate(model: type[Model], data: dict) -> Model:
    """``data`` (already parsed JSON) as ``model``, or 422 with field errors."""
    try:
        return model.model_validate_json(orjson.dumps(data))
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None


def parse_json(request, model: type[Model]) -> Model:
    """The request's JSON body as ``model``: 415, 400 or 422 when it is not."""
    if request.content_type != JSON_MEDIA_TYPE:
        raise ValidationFailed(
            None, "Send the body as application/json.", status=415, error="unsupported_media_type"
        )
    try:
        return model.model_validate_json(request.body or b"")
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise bad_request("The body is not valid JSON.") from None
        if any(error["type"] == "model_type" and not error["loc"] for error in exc.errors()):
            raise bad_request("The body must be a JSON object.") from None
        raise ValidationFailed(field_errors(exc)) from None
