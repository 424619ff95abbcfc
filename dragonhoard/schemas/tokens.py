"""Bodies about personal access tokens."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from ..security.networks import parse_network
from . import Body, WholeNumber, refuse_nul

MAX_NETWORKS = 20
MAX_LEAK_REPORT = 100
EXPIRY_CHOICES = (7, 30, 60, 90)


def check_name(value: str) -> str:
    value = refuse_nul(value).strip()
    if not value:
        raise ValueError("Give the token a name.")
    return value


def check_network(value: str) -> str:
    """The range as stored: an IPv4-mapped one as the IPv4 range it maps."""
    try:
        return str(parse_network(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an address range such as 10.0.0.0/8.") from None


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]
Network = Annotated[str, Field(max_length=64), AfterValidator(check_network)]


class TokenCreate(Body):
    name: Name
    scopes: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []
    #: 7, 30, 60 or 90; null for a token that never expires.
    expires_in_days: WholeNumber | None = None
    #: Valid through this day (UTC).
    expires_at: date | None = None
    #: Absent: every project; a list (maybe empty): only these.
    projects: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=100)] | None = None
    allowed_networks: Annotated[list[Network], Field(max_length=MAX_NETWORKS)] = []


class LeakReport(Body):
    tokens: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=MAX_LEAK_REPORT)]
