"""``dragonhoard-initdb CONFIG [--demo]``: migrate to head; ``--demo`` loads demo data once."""
from __future__ import annotations

import argparse
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError

from . import CommandError, bootstrap, fail
from .demo import load_demo

PROG = "dragonhoard-initdb"


def upgrade(config_uri: str, engine) -> None:
    alembic_config = Config(config_uri.split("#")[0])
    with engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, "head")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("config", help="the ini file, e.g. development.ini")
    parser.add_argument("--demo", action="store_true", help="load demo users, projects and treasures once")
    args = parser.parse_args(argv)
    try:
        env = bootstrap(args.config, logging=True)
        if args.demo and env.settings.environment == "production":
            # The demo users' passwords are published, an admin's among them.
            raise CommandError("--demo is refused in production: the demo users' passwords are public")
        upgrade(args.config, env.engine)
        if args.demo:
            load_demo(env, out=sys.stdout)
    except CommandError as exc:
        fail(PROG, str(exc))
    except SQLAlchemyError as exc:
        fail(PROG, f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
