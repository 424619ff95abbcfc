"""OAuth apps: register, change, rotate the secret, delete (DESIGN section 15).

The same rules for the pages and the JSON API. A confidential app's client
secret (``dhs_``, the token format of section 3) is returned once, by
:func:`create_app` and :func:`rotate_secret`, and stored as SHA-256.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..models import EventKind, OAuthApp, OAuthGrant
from ..security import tokens
from ..security.bookkeeping import Bookkeeping
from .pagination import paginate

#: ``dhc_`` + 24 random characters: public (it travels in URLs), but unguessable.
CLIENT_ID_PREFIX = "dhc_"
MAX_APPS_PER_USER = 100
CLIENT_ID_SHAPE = re.compile(r"[A-Za-z0-9_]{1,40}")


@dataclass
class AppRequest:
    """What the caller asked for (already validated: schemas/apps.py)."""

    name: str
    homepage: str
    redirect_uris: list[str]
    confidential: bool = True


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + "".join(secrets.choice(tokens.ALPHABET) for _ in range(24))


def app_by_client_id(dbsession: Session, client_id: str | None) -> OAuthApp | None:
    """The app, or None; only what a client id can be reaches the database
    (it comes from anyone: no NUL byte, no five kilobytes)."""
    if not client_id or not CLIENT_ID_SHAPE.fullmatch(client_id):
        return None
    return dbsession.scalars(select(OAuthApp).where(OAuthApp.client_id == client_id)).first()


def owned_app(dbsession: Session, owner_id: int, app_id: int) -> OAuthApp | None:
    """The owner's app (another user's is not found)."""
    return dbsession.scalars(
        select(OAuthApp).where(OAuthApp.id == app_id, OAuthApp.owner_id == owner_id)
    ).first()


def list_apps(dbsession: Session, owner_id: int, *, page: int = 1,
              per_page: int = 100) -> tuple[list[OAuthApp], int]:
    """The owner's apps, newest first, and how many there are."""
    query = (select(OAuthApp).where(OAuthApp.owner_id == owner_id)
             .order_by(OAuthApp.created_at.desc(), OAuthApp.id.desc()))
    return paginate(dbsession, query, page=page, per_page=per_page)


def count_apps(dbsession: Session, owner_id: int) -> int:
    return dbsession.scalar(select(func.count()).select_from(OAuthApp)
                            .where(OAuthApp.owner_id == owner_id)) or 0


def create_app(dbsession: Session, events: Bookkeeping, owner_id: int,
               wanted: AppRequest) -> tuple[OAuthApp, str | None]:
    """A new app, and its client secret (None for a public app)."""
    secret = tokens.generate(tokens.CLIENT_SECRET_PREFIX) if wanted.confidential else None
    now = clock.now()
    app = OAuthApp(
        owner_id=owner_id, client_id=new_client_id(), name=wanted.name, homepage=wanted.homepage,
        redirect_uris="\n".join(wanted.redirect_uris), confidential=wanted.confidential,
        secret_hash=tokens.hash_token(secret) if secret else None, created_at=now,
    )
    dbsession.add(app)
    dbsession.flush()
    events.audit(EventKind.OAUTH_APP_CREATED, owner_id, app_id=app.id, name=app.name,
                 client_id=app.client_id, confidential=app.confidential)
    return app, secret


def change_app(events: Bookkeeping, app: OAuthApp, *, name: str | None = None,
               homepage: str | None = None, redirect_uris: list[str] | None = None) -> list[str]:
    """Change what was given; the names of the fields that changed."""
    changed = []
    if name is not None and name != app.name:
        app.name = name
        changed.append("name")
    if homepage is not None and homepage != app.homepage:
        app.homepage = homepage
        changed.append("homepage")
    if redirect_uris is not None and "\n".join(redirect_uris) != app.redirect_uris:
        app.redirect_uris = "\n".join(redirect_uris)
        changed.append("redirect_uris")
    if changed:
        events.audit(EventKind.OAUTH_APP_CHANGED, app.owner_id, app_id=app.id, changed=changed)
    return changed


def rotate_secret(dbsession: Session, events: Bookkeeping, app: OAuthApp) -> str:
    """A new client secret for a confidential app; the old one stops at once."""
    secret = tokens.generate(tokens.CLIENT_SECRET_PREFIX)
    app.secret_hash = tokens.hash_token(secret)
    app.secret_rotated_at = clock.now()
    dbsession.flush()
    events.audit(EventKind.OAUTH_SECRET_ROTATED, app.owner_id, app_id=app.id)
    return secret


def delete_app(dbsession: Session, events: Bookkeeping, app: OAuthApp) -> None:
    """Delete the app: its grants, codes and tokens go with it (cascade);
    each user who had authorized it finds the revocation in their log."""
    events.audit(EventKind.OAUTH_APP_DELETED, app.owner_id, app_id=app.id, name=app.name,
                 client_id=app.client_id)
    for user_id in dbsession.scalars(select(OAuthGrant.user_id).where(OAuthGrant.app_id == app.id)):
        events.audit(EventKind.OAUTH_REVOKED, user_id, app_id=app.id, reason="app_deleted")
    dbsession.delete(app)
    dbsession.flush()
