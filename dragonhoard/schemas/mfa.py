"""Bodies about second factors (DESIGN section 14)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ..models.mfa import MAX_FACTOR_NAME_LENGTH
from . import Body
from .treasures import check_text

#: Longer than any TOTP or recovery code, spaces and dashes included.
Code = Annotated[str, Field(min_length=1, max_length=64)]
FactorName = Annotated[str, Field(min_length=1, max_length=MAX_FACTOR_NAME_LENGTH),
                       AfterValidator(check_text)]


class CodeBody(Body):
    """A TOTP code (six digits) or a recovery code."""

    code: Code


class WebAuthnRegistration(Body):
    """``credential``: the JSON of the PublicKeyCredential that ``create()`` answered."""

    name: FactorName
    credential: dict[str, Any]


class WebAuthnAssertion(Body):
    """``credential``: the JSON of the PublicKeyCredential that ``get()`` answered."""

    credential: dict[str, Any]
