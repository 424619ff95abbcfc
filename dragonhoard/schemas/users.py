"""Bodies about users: registration, login, profile edits, passwords."""
from __future__ import annotations

from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, model_validator

from ..models.user import MAX_EMAIL_LENGTH, canonical_email
from . import Body

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{2,39}$"
#: A hard ceiling before any hashing or strength check; the ini file's
#: dragonhoard.password.max_length is the real limit for new passwords.
PASSWORD_CEILING = 1024


def check_email(value: str) -> str:
    """Syntax only: no DNS look-ups. Both stored forms must fit: the address
    as given and its casefolded copy, which can be longer."""
    try:
        normalized = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    if len(normalized) > MAX_EMAIL_LENGTH or len(canonical_email(normalized)) > MAX_EMAIL_LENGTH:
        raise ValueError(f"The email address is too long (at most {MAX_EMAIL_LENGTH} characters).")
    return normalized


Email = Annotated[str, Field(min_length=3, max_length=MAX_EMAIL_LENGTH), AfterValidator(check_email)]
Username = Annotated[str, Field(pattern=USERNAME_PATTERN)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_CEILING)]


class Registration(Body):
    email: Email
    username: Username
    password: Password


class Login(Body):
    email: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_LENGTH)]
    password: Password


class SudoBody(Body):
    """The password, or where the account has one, a second factor: exactly
    one of ``password``, ``totp_code`` and ``webauthn`` (an assertion, after
    ``POST /api/sudo/webauthn/options``)."""

    password: Password | None = None
    totp_code: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    webauthn: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [name for name in ("password", "totp_code", "webauthn") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("Send exactly one of password, totp_code and webauthn.")
        return self


class PasswordChange(Body):
    current_password: Password
    new_password: Password


class ProfileEdit(Body):
    """Fields may be left out, not null (see treasures.TreasureEdit)."""

    username: Username = None
    email: Email = None
