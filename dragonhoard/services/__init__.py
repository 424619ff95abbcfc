"""What a user can do, shared by the views and the command line.

Services take a database session and plain values, raise
``schemas.ValidationFailed`` or :class:`Conflict`, and know nothing of HTTP.
"""
from __future__ import annotations


class Conflict(Exception):
    """A duplicate or a rule of the data (409)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
