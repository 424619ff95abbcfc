"""Every answer shape of the JSON API, defined once (DESIGN section 7).

Each model here is what a client relies on: it shapes the answer (the
builders below it, and the fast path's statements, which select a shape's
columns in its order) and describes it (the OpenAPI document). Builders
return plain dicts: validating every answer through pydantic would cost
the hot path more than the rest of a request.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["viewer", "editor", "owner"]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


def fields_of(shape: type[Shape]) -> tuple[str, ...]:
    return tuple(shape.model_fields)


class User(Shape):
    """A profile; ``email`` only for the user themself and admins."""

    id: int
    username: str
    email: str | None = None
    is_admin: bool
    created_at: datetime


class Treasure(Shape):
    id: int
    name: str
    description: str
    value: int
    cool_factor: int
    is_published: bool
    owner_id: int
    #: The project's slug, or null.
    project: str | None
    plundered_at: datetime
    created_at: datetime


class Project(Shape):
    slug: str
    name: str
    description: str
    created_at: datetime
    #: The caller's role; null for an admin who is not a member.
    role: Role | None


class Member(Shape):
    user_id: int
    username: str
    role: Role


TREASURE_FIELDS = fields_of(Treasure)
PROJECT_FIELDS = fields_of(Project)


def user_answer(user: Any, *, with_email: bool) -> dict:
    """``user``: a User row or an Identity (both have these attributes)."""
    data = {"id": user.id, "username": user.username, "is_admin": user.is_admin,
            "created_at": user.created_at}
    if with_email:
        data["email"] = user.email
    return data


def treasure_answer(row: tuple) -> dict:
    """From a row that starts with the treasure's columns in shape order."""
    return dict(zip(TREASURE_FIELDS, row, strict=False))


def treasure_answer_of(treasure: Any, project_slug: str | None) -> dict:
    """From an ORM Treasure (a create)."""
    data = {field: getattr(treasure, field) for field in TREASURE_FIELDS if field != "project"}
    data["project"] = project_slug
    return {field: data[field] for field in TREASURE_FIELDS}


def project_answer(row: tuple) -> dict:
    """From a row that starts with the project's columns in shape order."""
    return dict(zip(PROJECT_FIELDS, row, strict=False))


def member_answer(user_id: int, username: str, role: str) -> dict:
    return {"user_id": user_id, "username": username, "role": role}


def page_answer(items: list, page: int, per_page: int, total: int) -> dict:
    """Every list: ``{"items", "page", "per_page", "total"}``."""
    return {"items": items, "page": page, "per_page": per_page, "total": total}
