"""``dragonhoard-admin CONFIG COMMAND ...``: what an operator does (DESIGN section 10)."""
from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date

from sqlalchemy.exc import SQLAlchemyError

from ..errors import Conflict, Invalid, MfaRequired
from ..models import ApiToken, find_by_email
from ..models.meta import MAX_ID
from ..schemas import validate
from ..schemas.tokens import check_name, check_network
from ..schemas.users import Registration
from ..services.mfa import reset_mfa
from ..services.tokens import Expiry, TokenRequest, create_token, prune, revoke_token
from ..services.users import register_user, set_active, set_admin
from . import CommandError, Environment, bootstrap, describe, fail

PROG = "dragonhoard-admin"
MAX_PRUNE_DAYS = 36500


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
    body = validate(Registration, {"email": args.email, "username": args.username,
                                   "password": password})
    with env.transaction() as (dbsession, events):
        user = register_user(dbsession, events, env.passwords, email=body.email,
                             username=body.username, password=body.password, is_admin=args.admin,
                             by="operator")
        user_id = user.id
    print(f"Created user {user_id} ({body.username}){' with admin rights' if args.admin else ''}.")


def _user(dbsession, email: str):
    user = find_by_email(dbsession, email)
    if user is None:
        raise CommandError(f"no user has the email {email!r}")
    return user


def set_admin_command(env: Environment, args) -> None:
    with env.transaction() as (dbsession, events):
        user = _user(dbsession, args.email)
        set_admin(events, user, not args.off)
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


def create_token_command(env: Environment, args) -> None:
    if sum(bool(x) for x in (args.expires_in_days is not None, args.expires_at, args.never)) > 1:
        raise CommandError("give at most one of --expires-in-days, --expires-at and --never")
    try:
        on_date = date.fromisoformat(args.expires_at) if args.expires_at else None
    except ValueError:
        raise CommandError(f"--expires-at takes a date such as 2027-03-01, not {args.expires_at!r}") from None
    scopes = [s for s in (args.scopes or "").split(",") if s]
    projects = None if args.projects is None else [p for p in args.projects.split(",") if p]
    try:
        name = check_name(args.name)
        networks = [check_network(n) for n in (args.allowed_networks or "").split(",") if n]
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    request = TokenRequest(
        name=name, scopes=scopes, projects=projects, allowed_networks=networks,
        expiry=Expiry(days=args.expires_in_days, on_date=on_date, never=args.never),
    )
    with env.transaction() as (dbsession, events):
        owner = _user(dbsession, args.email)
        token, secret = create_token(dbsession, events, owner, request,
                                     max_days=env.settings.token_max_lifetime_days, allowed_days=None,
                                     by="operator", mfa_required=env.settings.mfa_required)
        token_id = token.id
        expires = token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if token.expires_at else "never"
    print(f"Token {token_id} for {args.email}, expires {expires}. It is shown this once:",
          file=sys.stderr)
    print(secret)


def revoke_token_command(env: Environment, args) -> None:
    with env.transaction() as (dbsession, bookkeeping):
        token = dbsession.get(ApiToken, args.token_id) if 0 < args.token_id <= MAX_ID else None
        if token is None:
            raise CommandError(f"no token has the id {args.token_id}")
        if revoke_token(bookkeeping, token, by="operator"):
            print(f"Token {token.id} ({token.display_prefix}...) is revoked.")
        else:
            print(f"Token {token.id} was already revoked.")


def prune_command(env: Environment, args) -> None:
    if not 0 <= args.older_than_days <= MAX_PRUNE_DAYS:
        raise CommandError(f"--older-than-days takes 0 to {MAX_PRUNE_DAYS} days")
    with env.transaction() as (dbsession, _bookkeeping):
        counts = prune(
            dbsession,
            older_than_days=args.older_than_days,
            throttle_window_seconds=env.settings.throttle_window_seconds,
            session_idle_seconds=env.settings.session_idle_seconds,
        )
    print(f"Deleted {counts['tokens']} tokens, {counts['sessions']} sessions and "
          f"{counts['counters']} throttle counters. Deleted {counts['ceremonies']} expired"
          f" WebAuthn challenges and pending logins, and {counts['oauth']} spent OAuth codes"
          " and refresh tokens.")


def reset_mfa_command(env: Environment, args) -> None:
    with env.transaction() as (dbsession, bookkeeping):
        user = _user(dbsession, args.email)
        counts = reset_mfa(dbsession, bookkeeping, user)
        username = user.username
    print(f"{username}: removed {counts['webauthn']} security keys, {counts['totp']} authenticator"
          f" apps and {counts['recovery_codes']} recovery codes; {counts['sessions']} sessions"
          " revoked. They log in with the password alone now.")


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

    p = commands.add_parser("create-token", help="create a token and print it once")
    p.add_argument("email")
    p.add_argument("--name", required=True)
    p.add_argument("--scopes", default="", help="comma-separated, e.g. treasure:read,project:read")
    p.add_argument("--expires-in-days", type=int, metavar="D")
    p.add_argument("--expires-at", metavar="YYYY-MM-DD", help="valid through that day (UTC)")
    p.add_argument("--never", action="store_true", help="never expires (unless a maximum is set)")
    p.add_argument("--projects", metavar="SLUG,SLUG", help="restrict to these projects ('' for none)")
    p.add_argument("--allowed-networks", metavar="CIDR,CIDR")
    p.set_defaults(run=create_token_command)

    p = commands.add_parser("revoke-token", help="revoke a token by its id")
    p.add_argument("token_id", type=int)
    p.set_defaults(run=revoke_token_command)

    p = commands.add_parser("reset-mfa", help="remove a locked-out user's second factors and"
                                              " recovery codes, and revoke their sessions")
    p.add_argument("email")
    p.set_defaults(run=reset_mfa_command)

    p = commands.add_parser("prune", help="delete long-dead tokens, sessions and throttle counters")
    p.add_argument("--older-than-days", type=int, default=30, metavar="N")
    p.set_defaults(run=prune_command)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        env = bootstrap(args.config)
        args.run(env, args)
    except (CommandError, Invalid, Conflict, MfaRequired) as exc:
        fail(PROG, describe(exc))
    except SQLAlchemyError as exc:
        fail(PROG, f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
