"""Request bodies: parsing and validation.

Bodies are validated by pydantic models in strict mode (no silent
conversions: ``"5"`` is not a number) that forbid unknown fields, so a
read-only or misspelled field is a 422 rather than silently ignored.
"""
from __future__ import annotations

from typing import Annotated, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from ..errors import Invalid, Malformed, WrongMediaType

Model = TypeVar("Model", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"


def refuse_nul(value: str) -> str:
    """PostgreSQL's text cannot hold NUL, and nobody means one."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


def whole(value):
    """JSON (and JSON Schema, the API document's language) says 4.0 and 4
    alike: a whole float is that integer; 4.5 stays a float, and is refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Marks an integer field of a body: strict still (not "4", not true, not 4.5).
#: After any Field(...) in the Annotated, so that its bounds stay in the schema.
WHOLE = BeforeValidator(whole)
WholeNumber = Annotated[int, WHOLE]


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
    """The request's body as a JSON object, unvalidated: WrongMediaType or
    Malformed when it is not one."""
    if request.content_type != JSON_MEDIA_TYPE:
        raise WrongMediaType()
    try:
        data = orjson.loads(request.body or b"")
    except orjson.JSONDecodeError:
        raise Malformed("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Malformed("The body must be a JSON object.")
    return data


def validate(model: type[Model], data: dict) -> Model:
    """``data`` (parsed JSON, or a form's fields) as ``model``, or Invalid.

    Validated as JSON, so that strict mode takes what JSON can say (a date
    as a string) exactly as from a body.
    """
    try:
        raw = orjson.dumps(data)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (254): no body of ours is
        raise Malformed("The body is nested too deeply.") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def parse_json(request, model: type[Model]) -> Model:
    """The request's JSON body as ``model``."""
    return validate(model, read_json_object(request))
