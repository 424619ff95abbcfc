"""Small helpers the HTTP tests share."""
from __future__ import annotations

from sqlalchemy import func, select

from dragonhoard.models import metadata

from .factories import PASSWORD

ORIGIN = "http://localhost"


def api_login(testapp, email: str, password: str = PASSWORD, **kw):
    """JSON login; returns the response (``response.json["csrf_token"]``)."""
    return testapp.post_json("/api/login", {"email": email, "password": password}, **kw)


def login(testapp, user, password: str = PASSWORD) -> str:
    """Log ``user`` in through the JSON API; the CSRF token for later requests."""
    return api_login(testapp, user.email, password).json["csrf_token"]


def form_login(testapp, email: str, password: str = PASSWORD, next_path: str | None = None, *,
               forced_next: str | None = None, **kw):
    """The login form, filled in and sent; ``forced_next`` replaces the form's
    hidden ``next`` with anything at all, as a forged form would."""
    page = testapp.get("/login" + (f"?next={next_path}" if next_path else ""))
    form = page.forms[0]
    form["email"] = email
    form["password"] = password
    if forced_next is not None:
        form["next"].force_value(forced_next)
    return form.submit(**kw)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def row_counts(dbsession) -> dict[str, int]:
    """How many rows each table holds."""
    dbsession.expire_all()
    return {
        table.name: dbsession.scalar(select(func.count()).select_from(table))
        for table in metadata.sorted_tables
    }


def cookie(testapp, name: str) -> str | None:
    return testapp.cookies.get(name)


def caller_id(testapp, **kw) -> int:
    """The user id ``/api/me`` says is calling (and that it answered 200)."""
    return testapp.get("/api/me", **kw).json["user"]["id"]
