"""Bodies about treasures, projects and members."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from ..models.project import SLUG_PATTERN
from . import WHOLE, Body

MAX_VALUE = 2**62


def check_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("Cannot be blank.")
    return value


def check_treasure_name(value: str) -> str:
    value = check_text(value)
    if len(value) < 2:
        raise ValueError("Use at least 2 characters besides spaces.")
    return value


def in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("The time is out of range.") from None


TreasureName = Annotated[str, Field(min_length=2, max_length=50), AfterValidator(check_treasure_name)]
Description = Annotated[str, Field(max_length=5000)]
Value = Annotated[int, Field(ge=0, le=MAX_VALUE), WHOLE]
CoolFactor = Annotated[int, Field(ge=0, le=10), WHOLE]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
ProjectName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_text)]
Role = Literal["viewer", "editor", "owner"]
#: With a zone, as given; kept and shown in UTC.
Timestamp = Annotated[AwareDatetime, AfterValidator(in_utc)]


class TreasureCreate(Body):
    name: TreasureName
    description: Description = ""
    value: Value = 0
    cool_factor: CoolFactor = 0
    is_published: bool = False
    plundered_at: Timestamp | None = None
    project: Annotated[str, Field(max_length=40)] | None = None


class TreasureEdit(Body):
    """``project`` is taken at creation only: here it is an unknown field (422).

    Every field may be left out; none may be null (defaults are not
    validated, an explicit null is, and fails)."""

    name: TreasureName = None
    description: Description = None
    value: Value = None
    cool_factor: CoolFactor = None
    is_published: bool = None
    plundered_at: Timestamp = None


class ProjectCreate(Body):
    slug: Slug
    name: ProjectName
    description: Description = ""


class ProjectEdit(Body):
    """Fields may be left out, not null (see TreasureEdit); the slug is for good."""

    name: ProjectName = None
    description: Description = None
    #: Members without a second factor are refused its private data (owners only).
    require_mfa: bool = None


class MemberRole(Body):
    role: Role
