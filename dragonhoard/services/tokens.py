"""Personal access tokens: create, rotate, revoke, report as leaked, prune.

The same rules for the pages, the JSON API and the command line (DESIGN
sections 3 and 10). The secret is returned once, by :func:`create_token`
and :func:`rotate_token`, and never stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..errors import Conflict, Invalid, MfaRequired
from ..models import (
    ApiToken,
    ApiTokenProject,
    EventKind,
    LoginSession,
    Membership,
    OAuthCode,
    OAuthDeviceCode,
    OAuthRefreshToken,
    PendingLogin,
    Project,
    ThrottleHit,
    User,
    WebAuthnChallenge,
)
from ..models.locks import lock_row
from ..schemas.tokens import TokenCreate
from ..security import tokens
from ..security.bookkeeping import Bookkeeping
from ..security.permissions import ADMIN_SCOPE, SCOPES
from .pagination import paginate

DEFAULT_LIFETIME_DAYS = 30
#: The longest lifetime the command line accepts when no maximum is set.
CLI_MAX_DAYS = 3650
#: The latest expiry the rules allow: ``expires_at`` 9999-12-30, valid through
#: that day. Date arithmetic stops here: a day later, datetime itself ends.
LATEST_EXPIRY = datetime.combine(date.max, time(0), tzinfo=UTC)


@dataclass
class Expiry:
    """What the caller asked for: a number of days, a date, never, or nothing."""

    days: int | None = None
    on_date: date | None = None
    never: bool = False


@dataclass
class TokenRequest:
    name: str
    scopes: list[str] = field(default_factory=list)
    expiry: Expiry = field(default_factory=Expiry)
    projects: list[str] | None = None
    allowed_networks: list[str] = field(default_factory=list)


def token_request(body: TokenCreate) -> TokenRequest:
    """A validated create body as the service's request (the pages' form too)."""
    return TokenRequest(name=body.name, scopes=body.scopes, expiry=expiry_from(body),
                        projects=body.projects, allowed_networks=body.allowed_networks)


def expiry_from(body: TokenCreate) -> Expiry:
    """What the body asks for: ``expires_in_days`` (null: never), ``expires_at``
    or neither; both is 422."""
    sent = body.model_fields_set
    if "expires_in_days" in sent and "expires_at" in sent:
        message = "Send expires_in_days or expires_at, not both."
        raise Invalid({"expires_in_days": message, "expires_at": message})
    if "expires_at" in sent:
        if body.expires_at is None:
            raise Invalid({"expires_at": "Give a date (YYYY-MM-DD)."})
        return Expiry(on_date=body.expires_at)
    if "expires_in_days" in sent:
        if body.expires_in_days is None:
            return Expiry(never=True)
        return Expiry(days=body.expires_in_days)
    return Expiry()


def expires_at_for(expiry: Expiry, now: datetime, max_days: int | None,
                   allowed_days: tuple[int, ...] | None) -> datetime | None:
    """When the token expires (None: never); 422 on ``expires_*`` otherwise.

    ``allowed_days`` is the set of choices (the pages and the JSON API), or
    None for any whole number of days (the command line).
    """
    if expiry.never:
        if max_days is not None:
            raise Invalid({"expires_in_days": f"Tokens here expire within {max_days} days."})
        return None
    if expiry.on_date is not None:
        today = now.date()
        if expiry.on_date < today:
            raise Invalid({"expires_at": "The date is in the past."})
        if max_days is not None and expiry.on_date > today + timedelta(days=max_days):
            raise Invalid({"expires_at": f"Tokens here expire within {max_days} days."})
        if expiry.on_date >= LATEST_EXPIRY.date():
            raise Invalid({"expires_at": "The date is too far away."})
        # Valid through that day: until the following midnight, UTC.
        return datetime.combine(expiry.on_date + timedelta(days=1), time(0), tzinfo=UTC)
    if expiry.days is not None:
        ceiling = max_days if max_days is not None else CLI_MAX_DAYS
        if allowed_days is not None and expiry.days not in allowed_days:
            choices = ", ".join(str(d) for d in allowed_days)
            raise Invalid({"expires_in_days": f"Choose {choices} days, a date, or never."})
        if not 1 <= expiry.days <= ceiling:
            raise Invalid({"expires_in_days": f"Choose between 1 and {ceiling} days."})
        return expiry_after(now, timedelta(days=expiry.days))
    return expiry_after(now, timedelta(days=default_lifetime_days(max_days)))


def default_lifetime_days(max_days: int | None) -> int:
    """What asking for no expiry means: 30 days, or the maximum where that is
    shorter (the pages, the JSON API and the command line alike)."""
    return DEFAULT_LIFETIME_DAYS if max_days is None else min(DEFAULT_LIFETIME_DAYS, max_days)


def expiry_after(now: datetime, lifetime: timedelta) -> datetime:
    """``now + lifetime``, but never later than :data:`LATEST_EXPIRY` (adding
    past datetime's last day would overflow)."""
    if lifetime >= LATEST_EXPIRY - now:
        return LATEST_EXPIRY
    return now + lifetime


def _check_scopes(owner: User, scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise Invalid({"scopes": f"Unknown scope: {', '.join(unknown)}."})
    if ADMIN_SCOPE in scopes and not owner.is_admin:
        raise Invalid({"scopes": "Only admins may give a token the admin scope."})
    return sorted(set(scopes))


def _projects(dbsession: Session, owner: User, slugs: list[str]) -> list[Project]:
    """The projects named, each one the owner may restrict a token to."""
    wanted = list(dict.fromkeys(slugs))
    query = select(Project).where(Project.slug.in_(wanted))
    if not owner.is_admin:
        query = query.join(Membership, Membership.project_id == Project.id).where(
            Membership.user_id == owner.id
        )
    found = {project.slug: project for project in dbsession.scalars(query)}
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise Invalid({"projects": f"Not one of your projects: {', '.join(missing)}."})
    return [found[slug] for slug in wanted]


def _check_name_free(dbsession: Session, owner: User, name: str, now: datetime,
                     ignore_token_id: int | None = None) -> None:
    query = select(ApiToken.id).where(
        ApiToken.owner_id == owner.id,
        ApiToken.name == name,
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
    )
    if ignore_token_id is not None:
        query = query.where(ApiToken.id != ignore_token_id)
    if dbsession.scalar(query) is not None:
        raise Conflict("You already have a live token with this name.", "name")


def _lock_owner(dbsession: Session, owner: User) -> None:
    # Serialises token creation per user, so that two requests cannot both
    # find a name free: the second looks after the first committed.
    lock_row(dbsession, User, owner.id)


def _insert(dbsession: Session, owner: User, *, name: str, scopes: list[str], expires_at,
            projects: list[Project] | None, networks: list[str], now: datetime,
            rotated_from: int | None = None) -> tuple[ApiToken, str]:
    secret = tokens.generate()
    row = ApiToken(
        owner_id=owner.id,
        name=name,
        token_hash=tokens.hash_token(secret),
        display_prefix=tokens.display_prefix(secret),
        scopes=" ".join(scopes),
        is_restricted=projects is not None,
        allowed_networks=" ".join(networks),
        expires_at=expires_at,
        created_at=now,
        rotated_from=rotated_from,
    )
    row.project_links = [ApiTokenProject(project_id=project.id) for project in projects or ()]
    dbsession.add(row)
    dbsession.flush()
    return row, secret


def check_second_factor(has_mfa: bool, mfa_required: str) -> None:
    """``dragonhoard.mfa.required = tokens`` (or ``all``): an account without
    a second factor may neither create nor rotate tokens (403 ``mfa_required``)."""
    if mfa_required != "none" and not has_mfa:
        raise MfaRequired("Tokens need a second factor on this account: set one up at"
                          " /account/two-factor.")


def create_token(dbsession: Session, events: Bookkeeping, owner: User, request: TokenRequest, *,
                 max_days: int | None, allowed_days: tuple[int, ...] | None,
                 by: str | None = None, mfa_required: str = "none") -> tuple[ApiToken, str]:
    """A new token for ``owner`` and its secret (shown once, never stored)."""
    check_second_factor(owner.mfa_enabled, mfa_required)
    now = clock.now()
    scopes = _check_scopes(owner, request.scopes)
    expires_at = expires_at_for(request.expiry, now, max_days, allowed_days)
    projects = None if request.projects is None else _projects(dbsession, owner, request.projects)
    _lock_owner(dbsession, owner)
    _check_name_free(dbsession, owner, request.name, now)
    token, secret = _insert(dbsession, owner, name=request.name, scopes=scopes,
                            expires_at=expires_at, projects=projects,
                            networks=request.allowed_networks, now=now)
    events.audit(EventKind.TOKEN_CREATED, owner.id, token_id=token.id, name=token.name,
                 scopes=token.scope_list, **({"by": by} if by else {}))
    return token, secret


def owned_token(dbsession: Session, owner_id: int, token_id: int) -> ApiToken | None:
    return dbsession.scalars(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.owner_id == owner_id,
                               ApiToken.grant_id.is_(None))
    ).first()


@dataclass
class Rotation:
    """A rotated token, its secret, and what today's rules took off it."""

    token: ApiToken
    secret: str
    dropped_scopes: list[str]
    dropped_projects: list[str]


def rotate_token(dbsession: Session, events: Bookkeeping, owner: User, old: ApiToken, *,
                 max_days: int | None, mfa_required: str = "none") -> Rotation:
    """A new secret with the same name, scopes, restriction and networks, for
    the same length of time counted from now; the old one is revoked at once.

    Today's rules apply: what the owner may no longer give a token (``admin``,
    projects they left) is dropped, and the answer says so.
    """
    check_second_factor(owner.mfa_enabled, mfa_required)
    now = clock.now()
    if not _revoke_if_live(dbsession, old, now):
        raise Conflict("A revoked or expired token cannot be rotated.")
    scopes = [scope for scope in old.scope_list if _may_give(owner, scope)]
    projects, dropped_projects = _restriction_today(dbsession, owner, old)
    token, secret = _insert(dbsession, owner, name=old.name, scopes=scopes,
                            expires_at=_rotated_expiry(old, now, max_days), projects=projects,
                            networks=old.network_list, now=now, rotated_from=old.id)
    dropped_scopes = [scope for scope in old.scope_list if scope not in scopes]
    events.audit(EventKind.TOKEN_ROTATED, owner.id, token_id=token.id, rotated_from=old.id,
                 name=token.name)
    return Rotation(token, secret, dropped_scopes, dropped_projects)


def _revoke_if_live(dbsession: Session, token: ApiToken, now: datetime) -> bool:
    """Revoke the token if it is still live; False when it is not.

    One conditional UPDATE rather than a check and a write: of two rotations
    at once, the second waits for the first's row lock (PostgreSQL re-checks
    the condition then) or for the write lock (SQLite), and finds it revoked.
    """
    result = dbsession.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    # The loaded row reads revoked_at again, from the database, when asked.
    dbsession.expire(token, ["revoked_at"])
    return result.rowcount == 1


def _may_give(owner: User, scope: str) -> bool:
    return scope in SCOPES and (scope != ADMIN_SCOPE or owner.is_admin)


def _restriction_today(dbsession: Session, owner: User,
                       old: ApiToken) -> tuple[list[Project] | None, list[str]]:
    """The old token's projects the owner may still restrict a token to, and
    the slugs of those they may not. A restricted token stays restricted,
    maybe to no project at all: rotating never widens a token."""
    if not old.is_restricted:
        return None, []
    projects = [link.project for link in old.project_links]
    if owner.is_admin or not projects:
        return projects, []
    member_of = set(dbsession.scalars(
        select(Membership.project_id).where(
            Membership.user_id == owner.id,
            Membership.project_id.in_([project.id for project in projects]),
        )
    ))
    kept = [project for project in projects if project.id in member_of]
    return kept, [project.slug for project in projects if project.id not in member_of]


def _rotated_expiry(old: ApiToken, now: datetime, max_days: int | None) -> datetime | None:
    """The old token's lifetime counted from now (never: still never), both
    capped by the maximum where one is set."""
    if old.expires_at is None:
        lifetime = None if max_days is None else timedelta(days=max_days)
    else:
        lifetime = old.expires_at - old.created_at
        if max_days is not None:
            lifetime = min(lifetime, timedelta(days=max_days))
    return None if lifetime is None else expiry_after(now, lifetime)


def revoke_token(events: Bookkeeping, token: ApiToken, *, by: str | None = None) -> bool:
    """Revoke ``token``; False when it already was (``by``: itself, operator)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    events.audit(EventKind.TOKEN_REVOKED, token.owner_id, token_id=token.id, name=token.name,
                 **({"by": by} if by else {}))
    return True


def revoke_leaked(dbsession: Session, events: Bookkeeping, reported: list[str]) -> list[ApiToken]:
    """Revoke every live token among ``reported``, OAuth access tokens too;
    the tokens revoked."""
    hashes = {tokens.hash_token(value) for value in reported
              if tokens.is_well_formed(value, tokens.BEARER_PREFIXES)}
    if not hashes:
        return []
    now = clock.now()
    found = dbsession.scalars(
        select(ApiToken).where(
            ApiToken.token_hash.in_(hashes),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        ).with_for_update()
    ).all()
    for token in found:
        token.revoked_at = now
        events.audit(EventKind.TOKEN_REVOKED_LEAK, token.owner_id, token_id=token.id,
                     name=token.name, display_prefix=token.display_prefix)
    return list(found)


def list_tokens(dbsession: Session, owner_id: int, *, page: int = 1,
                per_page: int = 100) -> tuple[list[ApiToken], int]:
    """The owner's personal tokens that have not been pruned (revoked and
    expired ones included), newest first, and how many there are. (OAuth
    access tokens are the apps' business: /account/apps lists their grants.)"""
    query = (
        select(ApiToken)
        .where(ApiToken.owner_id == owner_id, ApiToken.grant_id.is_(None))
        .options(selectinload(ApiToken.project_links).selectinload(ApiTokenProject.project))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return paginate(dbsession, query, page=page, per_page=per_page)


def prune(dbsession: Session, *, older_than_days: int, throttle_window_seconds: int,
          session_idle_seconds: int) -> dict[str, int]:
    """Delete tokens and sessions revoked or expired more than ``older_than_days``
    ago, throttle hits past their window, WebAuthn challenges and pending
    logins past their five minutes, and OAuth codes and refresh tokens done
    with before the cutoff. Security-log events stay."""
    now = clock.now()
    cutoff = now - timedelta(days=older_than_days)
    tokens_deleted = dbsession.execute(
        delete(ApiToken).where(or_(ApiToken.revoked_at < cutoff, ApiToken.expires_at < cutoff))
    ).rowcount
    sessions_deleted = dbsession.execute(
        delete(LoginSession).where(
            or_(
                LoginSession.revoked_at < cutoff,
                LoginSession.expires_at < cutoff,
                LoginSession.last_seen_at < cutoff - timedelta(seconds=session_idle_seconds),
            )
        )
    ).rowcount
    # Leak reports count over an hour, failed passwords over their own window.
    window = max(timedelta(seconds=throttle_window_seconds), timedelta(hours=1))
    counters_deleted = dbsession.execute(
        delete(ThrottleHit).where(ThrottleHit.at <= now - window)
    ).rowcount
    ceremonies_deleted = (
        dbsession.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now)).rowcount
        + dbsession.execute(delete(PendingLogin).where(PendingLogin.expires_at <= now)).rowcount
    )
    # OAuth: codes and device codes past their minutes, refresh tokens used
    # or expired before the cutoff (one used since stays, to catch its replay).
    oauth_deleted = (
        dbsession.execute(delete(OAuthCode).where(OAuthCode.expires_at < cutoff)).rowcount
        + dbsession.execute(delete(OAuthDeviceCode).where(OAuthDeviceCode.expires_at < cutoff)).rowcount
        + dbsession.execute(delete(OAuthRefreshToken).where(
            or_(OAuthRefreshToken.used_at < cutoff, OAuthRefreshToken.expires_at < cutoff))).rowcount
    )
    return {"tokens": tokens_deleted, "sessions": sessions_deleted, "counters": counters_deleted,
            "ceremonies": ceremonies_deleted, "oauth": oauth_deleted}

