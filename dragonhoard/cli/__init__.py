"""Console scripts. Every command takes the ini file first and, on bad input,
exits non-zero with one clear line on standard error and no traceback."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..errors import Conflict, Invalid
from ..models import get_engine, get_session_factory
from ..security.bookkeeping import Bookkeeping
from ..security.passwords import Passwords
from ..settings import ConfigError, Settings, apply_environment, load_settings


class CommandError(Exception):
    """Printed as ``<command>: <message>``; the command exits with status 1."""


def fail(prog: str, message: str) -> NoReturn:
    print(f"{prog}: {message}", file=sys.stderr)
    raise SystemExit(1)


@dataclass
class Environment:
    config_uri: str
    settings: Settings
    engine: Engine

    @property
    def passwords(self) -> Passwords:
        return Passwords(self.settings)

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Bookkeeping]]:
        """A session committed at the end of the block; the bookkeeping
        (audit events) is written after it, as for a request."""
        bookkeeping = Bookkeeping(self.engine, None)
        with get_session_factory(self.engine)() as dbsession, dbsession.begin():
            yield dbsession, bookkeeping
        bookkeeping.flush()


def bootstrap(config_uri: str, *, logging: bool = False) -> Environment:
    try:
        raw = get_appsettings(config_uri)
    except Exception as exc:  # plaster raises several kinds for a bad file
        raise CommandError(f"cannot read the configuration {config_uri!r}: {exc}") from None
    if logging:
        setup_logging(config_uri)
    raw = apply_environment(dict(raw))
    try:
        settings = load_settings(raw)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    return Environment(config_uri, settings,
                       get_engine(raw, ping_idle_seconds=settings.db_ping_idle_seconds))


def describe(exc: Exception) -> str:
    """One line for a refusal a service raised."""
    if isinstance(exc, Invalid):
        if exc.fields:
            return "; ".join(f"{field}: {message}" for field, message in exc.fields.items())
        return exc.message
    if isinstance(exc, Conflict):
        return exc.message
    return str(exc)
