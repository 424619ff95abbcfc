"""What can go wrong, as the domain says it: no statuses, no headers.

Schemas, services and the security helpers raise these; ``views/errors.py``
alone turns each into its answer (DESIGN section 6), and the pages render
them next to their forms.
"""
from __future__ import annotations


class DomainError(Exception):
    """A refusal with a message for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Malformed(DomainError):
    """The body is not JSON, or not a JSON object; a query that cannot be read."""


class WrongMediaType(DomainError):
    """The body is not ``application/json``."""

    def __init__(self, message: str = "Send the body as application/json.") -> None:
        super().__init__(message)


class Invalid(DomainError):
    """Values that break the rules, by field."""

    def __init__(self, fields: dict[str, str] | None = None,
                 message: str = "The body is not valid.") -> None:
        super().__init__(message)
        self.fields = fields or {}


class Conflict(DomainError):
    """A duplicate, or a rule of the data (the last owner, a dead token)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ReauthRequired(DomainError):
    """Sudo mode is needed: the password (or a second factor) again."""

    def __init__(self, message: str = "Enter your password again (POST /api/sudo) and retry.") -> None:
        super().__init__(message)


class NeedsSession(DomainError):
    """Account security needs a login session; a token asked."""


class Throttled(DomainError):
    """Too many attempts; the next may come in ``retry_after`` seconds."""

    def __init__(self, retry_after: int,
                 message: str = "Too many failed attempts; try again later.") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadCredentials(DomainError):
    """A login refused: the same words whether or not the account exists."""

    def __init__(self, message: str = "The email or the password is wrong.") -> None:
        super().__init__(message)


class WrongPassword(DomainError):
    """The password entered again (sudo, a password change) is wrong."""

    def __init__(self, message: str = "The password is wrong.") -> None:
        super().__init__(message)


class MfaRequired(DomainError):
    """The account needs a second factor first (DESIGN section 14)."""

    def __init__(self, message: str = "Set up a second factor first (/account/two-factor).") -> None:
        super().__init__(message)


class WrongCode(DomainError):
    """A second factor given again (sudo) is wrong, used or replayed."""

    def __init__(self, message: str = "The code or the security key was not accepted.") -> None:
        super().__init__(message)
