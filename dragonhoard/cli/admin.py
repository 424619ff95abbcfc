"""``dragonhoard-admin CONFIG COMMAND ...``: what an operator does (DESIGN section 10)."""
from __future__ import annotations

import argparse
import getpass
import sys

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..schemas import ValidationFailed, field_errors
from ..schemas.users import Registration
from ..services import Conflict
from ..services.users import find_by_email, register_user, set_active
from . import CommandError, Environment, bootstrap, describe, fail

PROG = "dragonhoard-admin"


def read_password() -> str:
    """One line from standard input (a prompt when it is a terminal)."""
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    line = sys.stdin.readline()
    if not line:
        raise CommandError("no password on standard input (one line is expected)")
    return line.rstrip("\r\n")


def create_user(env: Environment, args) -> None:
    password = read_password()
    try:
        body = Registration.model_validate(
            {"email": args.email, "username": args.username, "password": password}
        )
    except ValidationError as exc:
        raise CommandError(describe(ValidationFailed(field_errors(exc)))) from None
    with env.transaction() as (dbsession, bookkeeping):
        user = register_user(dbsession, env.passwords, email=body.email, username=body.username,
                             password=body.password, is_admin=args.admin)
        bookkeeping.audit("user:registered", user.id, by="operator")
        user_id = user.id
    print(f"Created user {user_id} ({body.username}){' with admin rights' if args.admin else ''}.")


def _user(dbsession, email: str):
    user = find_by_email(dbsession, email)
    if user is None:
        raise CommandError(f"no user has the email {email!r}")
    return user


def set_admin_command(env: Environment, args) -> None:
    with env.transaction() as (dbsession, _bookkeeping):
        user = _user(dbsession, args.email)
        user.is_admin = not args.off
        username = user.username
    print(f"{username} is {'no longer' if args.off else 'now'} an admin.")


def set_active_command(env: Environment, args) -> None:
    with env.transaction() as (dbsession, bookkeeping):
        user = _user(dbsession, args.email)
        set_active(dbsession, bookkeeping, user, not args.off)
        username = user.username
    if args.off:
        print(f"{username} is deactivated: sessions revoked, tokens and logins refused.")
    else:
        print(f"{username} is active again.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("config", help="the ini file, e.g. development.ini")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("create-user", help="create a user; the password is read from standard input")
    p.add_argument("email")
    p.add_argument("username")
    p.add_argument("--admin", action="store_true", help="with admin rights")
    p.set_defaults(run=create_user)

    p = commands.add_parser("set-admin", help="give admin rights (or take them with --off)")
    p.add_argument("email")
    p.add_argument("--off", action="store_true")
    p.set_defaults(run=set_admin_command)

    p = commands.add_parser("set-active", help="reactivate a user (or deactivate with --off)")
    p.add_argument("email")
    p.add_argument("--off", action="store_true")
    p.set_defaults(run=set_active_command)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        env = bootstrap(args.config)
        args.run(env, args)
    except (CommandError, ValidationFailed, Conflict) as exc:
        fail(PROG, describe(exc))
    except SQLAlchemyError as exc:
        fail(PROG, f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
