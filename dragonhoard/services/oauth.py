"""What users grant OAuth apps, and the tokens issued under a grant
(DESIGN section 15). The protocol is oauthlib's (security/oauth/); these
are our rules, each write with its security-log event.

- A grant is one user's consent to one app; consenting again replaces its
  scopes and projects. Every access token carries the grant's scopes and
  projects as they were when it was issued; one issued by a refresh takes
  the grant as it is then (its scopes never more than the refresh token's).
- Revoking a grant deletes it, and every code, refresh token and access
  token issued under it with it: they stop working on the next request.
- A replayed authorization code or refresh token revokes the grant.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..models import (
    ApiToken,
    ApiTokenProject,
    EventKind,
    Membership,
    OAuthApp,
    OAuthCode,
    OAuthDeviceCode,
    OAuthGrant,
    OAuthGrantProject,
    OAuthRefreshToken,
    Project,
    User,
)
from ..models.locks import lock_row
from ..security import tokens
from ..security.bookkeeping import Bookkeeping
from ..security.oauth import replay
from ..security.permissions import ADMIN_SCOPE, SCOPES
from .tokens import check_second_factor

CODE_LIFETIME = timedelta(seconds=60)
REFRESH_LIFETIME = timedelta(days=30)
#: A refresh token used again within this long gets the answer its first
#: use got (a client retrying a lost answer); later, the grant is revoked.
REFRESH_GRACE = timedelta(seconds=10)
DEVICE_LIFETIME = timedelta(seconds=600)
DEVICE_INTERVAL = 5
#: RFC 8628 section 3.5: each ``slow_down`` adds 5 seconds to the interval.
SLOW_DOWN_STEP = 5
#: RFC 8628 section 6.1: 20 consonants, no vowels (no words), 8 of them
#: (about 34.5 bits), shown as XXXX-XXXX.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# -- scopes and projects ----------------------------------------------------


def grantable_scopes(user: User, requested: list[str]) -> list[str]:
    """The requested scopes this user may grant (``admin`` for admins only),
    in the order of DESIGN section 3."""
    wanted = set(requested)
    return [scope for scope in SCOPES
            if scope in wanted and (scope != ADMIN_SCOPE or user.is_admin)]


def member_projects(dbsession: Session, user_id: int) -> list[Project]:
    """The projects the user may put in a grant: theirs, by name."""
    return list(dbsession.scalars(
        select(Project).join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == user_id).order_by(Project.name, Project.id)
    ))


@dataclass(frozen=True)
class Consent:
    """What the user chose on the consent page."""

    scopes: list[str]
    #: None: every project (no restriction); else the projects' slugs (maybe none).
    projects: list[str] | None


def grant_for(dbsession: Session, user_id: int, app_id: int) -> OAuthGrant | None:
    return dbsession.scalars(
        select(OAuthGrant).where(OAuthGrant.user_id == user_id, OAuthGrant.app_id == app_id)
        .options(selectinload(OAuthGrant.project_links))
    ).first()


def remembered(dbsession: Session, user: User, app: OAuthApp,
               requested: list[str]) -> OAuthGrant | None:
    """The user's grant to ``app`` when it already covers every scope asked
    for (the same request does not ask twice)."""
    asked = set(requested)
    if asked != set(grantable_scopes(user, requested)):
        return None  # it asks for what this user cannot give: show the page
    grant = grant_for(dbsession, user.id, app.id)
    if grant is None or not asked <= set(grant.scope_list):
        return None
    return grant


def consent(dbsession: Session, events: Bookkeeping, user: User, app: OAuthApp,
            requested: list[str], choice: Consent, *, mfa_required: str = "none") -> OAuthGrant:
    """Record the user's consent: the grant to ``app``, created or replaced.

    The scopes are those chosen among those asked for and grantable; the
    projects must be the user's (others are dropped). Atomic: the user's row
    is locked, so two consents at once leave one grant. Where tokens need a
    second factor (``dragonhoard.mfa.required``), so do the apps' tokens.
    """
    check_second_factor(user.mfa_enabled, mfa_required)
    allowed = set(grantable_scopes(user, requested))
    scopes = [scope for scope in SCOPES if scope in allowed and scope in set(choice.scopes)]
    lock_row(dbsession, User, user.id)
    grant = grant_for(dbsession, user.id, app.id)
    now = clock.now()
    if grant is None:
        grant = OAuthGrant(user_id=user.id, app_id=app.id, created_at=now)
        dbsession.add(grant)
    grant.scopes = " ".join(scopes)
    grant.is_restricted = choice.projects is not None
    kept: list[Project] = []
    if choice.projects is not None:
        mine = {project.slug: project for project in member_projects(dbsession, user.id)}
        kept = [mine[slug] for slug in dict.fromkeys(choice.projects) if slug in mine]
    grant.project_links = [OAuthGrantProject(project_id=project.id) for project in kept]
    dbsession.flush()
    events.audit(EventKind.OAUTH_GRANTED, user.id, app_id=app.id, app=app.name, scopes=scopes,
                 projects=None if choice.projects is None else [p.slug for p in kept])
    return grant


def revoke_grant(dbsession: Session, events: Bookkeeping, grant: OAuthGrant, *,
                 reason: str) -> None:
    """Delete the grant, and by cascade every code and token issued under it.

    ``reason``: ``user`` (the user revoked the app), ``refresh_reused``,
    ``code_reused``, ``revoked`` (the app revoked its refresh token),
    ``leaked`` (a leak report named one of its refresh tokens).
    """
    kind = EventKind.OAUTH_REFRESH_REUSED if reason == "refresh_reused" else EventKind.OAUTH_REVOKED
    events.audit(kind, grant.user_id, app_id=grant.app_id, reason=reason)
    dbsession.execute(delete(OAuthGrant).where(OAuthGrant.id == grant.id))
    if grant in dbsession:
        dbsession.expunge(grant)  # gone: never flushed again


def revoke_app_for(dbsession: Session, events: Bookkeeping, user_id: int, app_id: int) -> bool:
    """The user revokes an app they authorized; False when there is no grant."""
    grant = grant_for(dbsession, user_id, app_id)
    if grant is None:
        return False
    revoke_grant(dbsession, events, grant, reason="user")
    return True


@dataclass(frozen=True)
class AuthorizedApp:
    """A grant as /account/apps shows it."""

    grant: OAuthGrant
    app: OAuthApp
    projects: list[str] | None
    last_used_at: datetime | None


def authorized_apps(dbsession: Session, user_id: int) -> list[AuthorizedApp]:
    """The apps the user authorized, by name; last used: the latest use of a
    token issued under the grant, or of the grant itself."""
    grants = list(dbsession.scalars(
        select(OAuthGrant).where(OAuthGrant.user_id == user_id)
        .options(selectinload(OAuthGrant.app),
                 selectinload(OAuthGrant.project_links).selectinload(OAuthGrantProject.project))
    ))
    used = dict(dbsession.execute(
        select(ApiToken.grant_id, func.max(ApiToken.last_used_at))
        .where(ApiToken.grant_id.in_([grant.id for grant in grants]))
        .group_by(ApiToken.grant_id)
    ).all()) if grants else {}
    listed = []
    for grant in grants:
        times = [t for t in (grant.last_used_at, used.get(grant.id)) if t is not None]
        projects = (sorted(link.project.slug for link in grant.project_links)
                    if grant.is_restricted else None)
        listed.append(AuthorizedApp(grant, grant.app, projects, max(times) if times else None))
    listed.sort(key=lambda item: (item.app.name.casefold(), item.app.id))
    return listed


def _locked(dbsession: Session, model, row_id: int):
    """The row ``row_id`` read again once locked (None: deleted meanwhile,
    with a grant another request revoked)."""
    lock_row(dbsession, model, row_id)
    return dbsession.scalars(select(model).where(model.id == row_id)
                             .execution_options(populate_existing=True)).first()


def _first_locked(dbsession: Session, model, query):
    """The row ``query`` finds, locked and read again (None: none, or gone)."""
    found = dbsession.scalars(query).first()
    return None if found is None else _locked(dbsession, model, found.id)


def _refresh_token_query(app: OAuthApp, secret: str):
    """The app's refresh token ``secret`` (another app's is not found)."""
    return (select(OAuthRefreshToken).join(OAuthGrant)
            .where(OAuthRefreshToken.token_hash == tokens.hash_token(secret),
                   OAuthGrant.app_id == app.id))


# -- authorization codes -----------------------------------------------------


def save_code(dbsession: Session, grant: OAuthGrant, code: str, *, redirect_uri: str,
              scopes: list[str], code_challenge: str) -> None:
    now = clock.now()
    dbsession.add(OAuthCode(grant_id=grant.id, code_hash=sha256(code), redirect_uri=redirect_uri,
                            scopes=" ".join(scopes), code_challenge=code_challenge,
                            created_at=now, expires_at=now + CODE_LIFETIME))
    dbsession.flush()


def live_code(dbsession: Session, events: Bookkeeping, app: OAuthApp,
              code: str) -> OAuthCode | None:
    """The app's live, unspent code, locked until the transaction ends (of
    two exchanges at once, the second waits, then finds it spent); None when
    there is none. A code spent before revokes its grant."""
    found = _first_locked(dbsession, OAuthCode, select(OAuthCode).join(OAuthGrant).where(
        OAuthCode.code_hash == sha256(code), OAuthGrant.app_id == app.id))
    if found is None:
        return None
    if found.used_at is not None:
        revoke_grant(dbsession, events, found.grant, reason="code_reused")
        return None
    if found.expires_at <= clock.now():
        return None
    return found


def spend_code(dbsession: Session, found: OAuthCode) -> None:
    """The code gave its tokens: single-use from now on."""
    found.used_at = clock.now()
    dbsession.flush()


# -- tokens ------------------------------------------------------------------


def save_tokens(dbsession: Session, grant: OAuthGrant, answer: dict, *, scopes: list[str],
                access_seconds: int, used_refresh: tuple[OAuthRefreshToken, str] | None = None
                ) -> None:
    """Store what the token endpoint answers (``answer``: RFC 6749 section
    5.1): the access token as an api_tokens row with the grant's projects,
    the refresh token, and for a rotation the old refresh token's answer,
    kept for its retries."""
    now = clock.now()
    access = answer["access_token"]
    token = ApiToken(
        owner_id=grant.user_id, name=grant.app.name, token_hash=tokens.hash_token(access),
        display_prefix=tokens.display_prefix(access), scopes=" ".join(scopes),
        is_restricted=grant.is_restricted, allowed_networks="", created_at=now,
        expires_at=now + timedelta(seconds=access_seconds), grant_id=grant.id,
    )
    token.project_links = [ApiTokenProject(project_id=link.project_id)
                           for link in grant.project_links]
    dbsession.add(token)
    if "refresh_token" in answer:
        dbsession.add(OAuthRefreshToken(
            grant_id=grant.id, token_hash=tokens.hash_token(answer["refresh_token"]),
            scopes=" ".join(scopes), created_at=now, expires_at=now + REFRESH_LIFETIME,
        ))
    grant.last_used_at = now
    if used_refresh is not None:
        old, secret = used_refresh
        old.used_at = now
        old.replay_answer = replay.seal(secret, json.dumps(answer))
    dbsession.flush()


class ReplayedAnswer(Exception):
    """A refresh token's retry within the grace window: answer ``body`` again."""

    def __init__(self, body: str) -> None:
        super().__init__("replayed refresh answer")
        self.body = body


def use_refresh_token(dbsession: Session, events: Bookkeeping, app: OAuthApp,
                      secret: str) -> OAuthRefreshToken | None:
    """The app's live, unused refresh token ``secret``, locked for its
    rotation; None when there is none. Used before: within the grace window
    :class:`ReplayedAnswer` carries the first answer, later the grant is
    revoked (the token was stolen, or the client is broken)."""
    if not tokens.is_well_formed(secret, tokens.OAUTH_REFRESH_PREFIX):
        return None
    found = _first_locked(dbsession, OAuthRefreshToken, _refresh_token_query(app, secret))
    if found is None:
        return None
    now = clock.now()
    if found.used_at is not None:
        if now - found.used_at <= REFRESH_GRACE and found.replay_answer:
            body = replay.open_sealed(secret, found.replay_answer)
            if body is not None:
                raise ReplayedAnswer(body)
        revoke_grant(dbsession, events, found.grant, reason="refresh_reused")
        return None
    if found.expires_at <= now:
        return None
    return found


def find_token(dbsession: Session, app: OAuthApp, secret: str
               ) -> ApiToken | OAuthRefreshToken | None:
    """The app's access or refresh token ``secret`` (revocation, introspection)."""
    if tokens.is_well_formed(secret, tokens.OAUTH_ACCESS_PREFIX):
        return dbsession.scalars(
            select(ApiToken).join(OAuthGrant, OAuthGrant.id == ApiToken.grant_id)
            .where(ApiToken.token_hash == tokens.hash_token(secret), OAuthGrant.app_id == app.id)
        ).first()
    if tokens.is_well_formed(secret, tokens.OAUTH_REFRESH_PREFIX):
        return dbsession.scalars(_refresh_token_query(app, secret)).first()
    return None


# -- device authorization (RFC 8628) ----------------------------------------


def new_user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normal_user_code(typed: str) -> str:
    """What the user typed, as stored: upper case, without dashes or spaces."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def free_user_code(dbsession: Session, drawn: str) -> str:
    """``drawn``, or another user code when a stored one has it (the column
    is unique): an expired one is deleted, a live one makes us draw again."""
    while True:
        found = dbsession.scalars(select(OAuthDeviceCode).where(
            OAuthDeviceCode.user_code_hash == sha256(normal_user_code(drawn)))).first()
        if found is None:
            return drawn
        if found.expires_at <= clock.now():
            dbsession.delete(found)
            dbsession.flush()
            return drawn
        drawn = new_user_code()


def save_device_code(dbsession: Session, app: OAuthApp, *, device_code: str, user_code: str,
                     scopes: list[str]) -> None:
    now = clock.now()
    dbsession.add(OAuthDeviceCode(
        app_id=app.id, device_code_hash=sha256(device_code),
        user_code_hash=sha256(normal_user_code(user_code)), scopes=" ".join(scopes),
        created_at=now, expires_at=now + DEVICE_LIFETIME, interval=DEVICE_INTERVAL,
        status="pending",
    ))
    dbsession.flush()


def pending_device_code(dbsession: Session, typed: str) -> OAuthDeviceCode | None:
    """The live, pending device authorization whose user code was typed."""
    code = normal_user_code(typed)
    if len(code) != USER_CODE_LENGTH:
        return None
    found = dbsession.scalars(
        select(OAuthDeviceCode).where(OAuthDeviceCode.user_code_hash == sha256(code))
        .options(selectinload(OAuthDeviceCode.app))
    ).first()
    if found is None or found.status != "pending" or found.expires_at <= clock.now():
        return None
    return found


def claim_device_code(dbsession: Session, device: OAuthDeviceCode) -> OAuthDeviceCode | None:
    """The pending device authorization, locked for its decision, before
    any consent is written; None when it was decided or expired meanwhile."""
    device = _locked(dbsession, OAuthDeviceCode, device.id)
    if device is None or device.status != "pending" or device.expires_at <= clock.now():
        return None
    return device


def decide_device_code(dbsession: Session, device: OAuthDeviceCode,
                       grant: OAuthGrant | None) -> None:
    """Approve (with the grant the user just gave) or deny (None) a device
    authorization :func:`claim_device_code` holds."""
    device.status = "approved" if grant is not None else "denied"
    device.grant_id = grant.id if grant is not None else None
    dbsession.flush()


@dataclass(frozen=True)
class Poll:
    """A device's poll: an RFC 8628 status, and for ``authorized`` its grant."""

    status: str
    device: OAuthDeviceCode | None = None


def poll_device_code(dbsession: Session, app: OAuthApp, device_code: str) -> Poll:
    """RFC 8628 section 3.5: ``authorized`` (once), ``authorization_pending``,
    ``slow_down`` (polled sooner than the interval, which grows by 5 s),
    ``expired_token``, ``access_denied``, or ``invalid`` (unknown, another
    app's, already exchanged). Polls of one code are serialized by its row lock."""
    found = _first_locked(dbsession, OAuthDeviceCode, select(OAuthDeviceCode).where(
        OAuthDeviceCode.device_code_hash == sha256(device_code), OAuthDeviceCode.app_id == app.id))
    if found is None:
        return Poll("invalid")
    now = clock.now()
    if found.status == "used":
        return Poll("invalid")
    if found.expires_at <= now:
        return Poll("expired_token")
    if found.status == "denied":
        return Poll("access_denied")
    too_soon = (found.last_polled_at is not None
                and now - found.last_polled_at < timedelta(seconds=found.interval))
    found.last_polled_at = now
    if found.status == "approved" and found.grant_id is not None:
        found.status = "used"
        dbsession.flush()
        return Poll("authorized", found)
    if too_soon:
        found.interval += SLOW_DOWN_STEP
        dbsession.flush()
        return Poll("slow_down")
    dbsession.flush()
    return Poll("authorization_pending")


def revoke_found(dbsession: Session, events: Bookkeeping,
                 found: ApiToken | OAuthRefreshToken) -> None:
    """RFC 7009 revocation: an access token alone; a refresh token takes its
    whole grant with it (section 2.1: its access tokens too)."""
    if isinstance(found, OAuthRefreshToken):
        revoke_grant(dbsession, events, found.grant, reason="revoked")
        return
    if found.revoked_at is None:
        found.revoked_at = clock.now()
        grant = dbsession.get(OAuthGrant, found.grant_id)
        events.audit(EventKind.OAUTH_REVOKED, found.owner_id, app_id=grant.app_id,
                     reason="access_token", token_id=found.id)
        dbsession.flush()


def introspection(dbsession: Session, app: OAuthApp,
                  found: ApiToken | OAuthRefreshToken) -> dict | None:
    """RFC 7662's claims about a live token of the app's; None: inactive."""
    now = clock.now()
    if isinstance(found, ApiToken):
        if not found.is_live(now):
            return None
        user_id, scopes, kind = found.owner_id, found.scopes, "access_token"
        issued, expires = found.created_at, found.expires_at
    else:
        if found.used_at is not None or found.expires_at <= now:
            return None
        user_id, scopes, kind = found.grant.user_id, found.scopes, "refresh_token"
        issued, expires = found.created_at, found.expires_at
    user = dbsession.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return {"scope": scopes, "client_id": app.client_id, "username": user.username,
            "sub": str(user.id), "token_type": "Bearer" if kind == "access_token" else kind,
            "iat": int(issued.timestamp()), "exp": int(expires.timestamp())}


def revoke_leaked_refresh_tokens(dbsession: Session, events: Bookkeeping,
                                 reported: list[str]) -> int:
    """A leak report's ``dhr_`` tokens (POST /api/credentials/revoke): each
    live one takes its grant with it; how many grants were revoked."""
    hashes = {tokens.hash_token(value) for value in reported
              if tokens.is_well_formed(value, tokens.OAUTH_REFRESH_PREFIX)}
    if not hashes:
        return 0
    found = dbsession.scalars(select(OAuthRefreshToken)
                              .where(OAuthRefreshToken.token_hash.in_(hashes))).all()
    revoked = {row.grant_id: row.grant for row in found}
    for grant in revoked.values():
        revoke_grant(dbsession, events, grant, reason="leaked")
    return len(revoked)
